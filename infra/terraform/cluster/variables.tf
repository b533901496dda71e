# Every input comes from the first module's `cluster_inputs` output (README.md, "Deploy"):
#   terraform -chdir=infra/terraform output -json cluster_inputs > infra/terraform/cluster/platform.auto.tfvars.json

variable "project_id" {
  type        = string
  description = "GCP project of the test cluster (first module's project_id)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id."
  }
}

variable "zone" {
  type        = string
  description = "Zone of the test cluster and the Filestore instance."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "zone must look like us-east1-d."
  }
}

variable "cluster_name" {
  type        = string
  description = "Name of the GKE cluster the first module created."

  validation {
    condition     = length(var.cluster_name) > 0
    error_message = "cluster_name must not be empty."
  }
}

variable "workflow_namespace" {
  type        = string
  description = "Namespace the test workflows run in (KFCI_WORKFLOW_NAMESPACE of the functions)."

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.workflow_namespace))
    error_message = "workflow_namespace must be a valid Kubernetes namespace name."
  }
}

variable "workflow_pod_security" {
  type        = string
  description = "Pod Security Admission level enforced on the workflow namespace (baseline refuses privileged pods, host namespaces and hostPath)."

  validation {
    condition     = contains(["baseline", "restricted", "privileged"], var.workflow_pod_security)
    error_message = "workflow_pod_security must be baseline, restricted or privileged."
  }
}

variable "argo_namespace" {
  type        = string
  description = "Namespace of Argo's controller and server, apart from the workflows."

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.argo_namespace))
    error_message = "argo_namespace must be a valid Kubernetes namespace name."
  }
}

variable "argo_chart_version" {
  type        = string
  description = "Version of the argo-workflows Helm chart (argoproj/argo-helm)."

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.argo_chart_version))
    error_message = "argo_chart_version must be an exact version."
  }
}

variable "argo_artifacts_bucket" {
  type        = string
  description = "Bucket of Argo's artifact repository (archived step logs)."

  validation {
    condition     = length(var.argo_artifacts_bucket) > 0
    error_message = "argo_artifacts_bucket must not be empty."
  }
}

variable "workflow_accounts" {
  type = object({
    restricted = object({ kubernetes = string, google = string })
    trusted    = object({ kubernetes = string, google = string })
  })
  description = "The two workflow identities: Kubernetes service account name and the Google account Workload Identity maps it to."

  validation {
    condition     = var.workflow_accounts.restricted.kubernetes != var.workflow_accounts.trusted.kubernetes
    error_message = "the restricted and the trusted workflow accounts must differ."
  }
}

variable "function_accounts" {
  type        = map(string)
  description = "Google service account email of each function (trigger, watcher, uploader, janitor); GKE names them as Kubernetes users."

  validation {
    condition     = alltrue([for f in ["trigger", "watcher", "uploader", "janitor"] : contains(keys(var.function_accounts), f)])
    error_message = "function_accounts must name trigger, watcher, uploader and janitor."
  }
}

variable "nfs_instance" {
  type        = string
  description = "Name of the Filestore instance the first module created."

  validation {
    condition     = length(var.nfs_instance) > 0
    error_message = "nfs_instance must not be empty."
  }
}

variable "nfs_capacity_gb" {
  type        = number
  description = "Size of the Filestore share."

  validation {
    condition     = var.nfs_capacity_gb >= 1024
    error_message = "nfs_capacity_gb must be at least 1024."
  }
}

variable "debug_worker_image" {
  type        = string
  description = "Image of the debug worker, from the project's Artifact Registry."

  validation {
    condition     = can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev/", var.debug_worker_image))
    error_message = "debug_worker_image must come from Artifact Registry (REGION-docker.pkg.dev/...)."
  }
}

variable "argo_ui" {
  type = object({
    expose              = bool
    host                = string
    address_name        = string
    oauth_client_secret = string
    viewers             = list(string)
  })
  description = "The Argo UI: off unless expose; then served over TLS on host, behind Identity-Aware Proxy (oauth_client_secret: a Kubernetes secret with client_id/client_secret, or empty for the Google-managed OAuth client), for the IAM members in viewers."

  validation {
    condition     = !var.argo_ui.expose || (var.argo_ui.host != "" && var.argo_ui.address_name != "")
    error_message = "an exposed Argo UI needs a host and a reserved address."
  }
}
