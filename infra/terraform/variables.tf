variable "project_id" {
  type        = string
  description = "GCP project that holds the test cluster, the chain (Pub/Sub, functions, Firestore) and the results bucket."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, Artifact Registry, Firestore-adjacent resources and Cloud Scheduler jobs."
  default     = "us-east1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must look like us-east1."
  }
}

variable "zone" {
  type        = string
  description = "Zone of the test cluster and the Filestore instance (the seed used us-east1-d)."
  default     = "us-east1-d"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "zone must look like us-east1-d."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every Google resource that supports them."
  default     = { app = "kfci" }
}

variable "cluster_name" {
  type        = string
  description = "Name of the GKE cluster the test workflows run in."
  default     = "kubeflow-testing"
}

variable "node_machine_type" {
  type        = string
  description = "Machine type of the test cluster's node pool."
  default     = "n1-standard-8"
}

variable "node_count" {
  type        = number
  description = "Minimum number of nodes in the test cluster's node pool."
  default     = 2

  validation {
    condition     = var.node_count >= 1
    error_message = "node_count must be at least 1."
  }
}

variable "node_max_count" {
  type        = number
  description = "Maximum number of nodes the node pool autoscales to."
  default     = 10

  validation {
    condition     = var.node_max_count >= var.node_count
    error_message = "node_max_count must not be smaller than node_count."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the cluster, the Firestore database and the results bucket from `terraform destroy`. Turn off before teardown."
  default     = true
}

variable "workflow_namespace" {
  type        = string
  description = "Kubernetes namespace the test workflows run in."
  default     = "kubeflow-test-infra"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.workflow_namespace))
    error_message = "workflow_namespace must be a valid Kubernetes namespace name."
  }
}

variable "argo_namespace" {
  type        = string
  description = "Kubernetes namespace of Argo's controller and server, apart from the workflows."
  default     = "argo"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.argo_namespace))
    error_message = "argo_namespace must be a valid Kubernetes namespace name."
  }
}

variable "workflow_pod_security" {
  type        = string
  description = "Pod Security Admission level enforced on the workflow namespace. baseline refuses privileged pods, host namespaces and hostPath; set privileged only if a repository in repository_allowances needs them."
  default     = "baseline"

  validation {
    condition     = contains(["baseline", "restricted", "privileged"], var.workflow_pod_security)
    error_message = "workflow_pod_security must be baseline, restricted or privileged."
  }
}

variable "trusted_repositories" {
  type        = list(string)
  description = "owner/repo whose postsubmit and periodic jobs run as the trusted workflow identity (the seed's deployer roles). Pull requests never do."
  default     = []

  validation {
    condition     = alltrue([for r in var.trusted_repositories : can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", r))])
    error_message = "trusted_repositories must hold owner/repo names."
  }
}

variable "repository_allowances" {
  type        = map(list(string))
  description = "Per owner/repo, what its workflows may use beyond the safe default: hostPath, privileged, hostNamespaces, podSpecPatch, resourceTemplates, clusterTemplates."
  default     = {}

  validation {
    condition = alltrue(flatten([for repository, allow in var.repository_allowances : [
      for a in allow : contains(["hostPath", "privileged", "hostNamespaces", "podSpecPatch", "resourceTemplates", "clusterTemplates"], a)
    ]]))
    error_message = "repository_allowances may only allow hostPath, privileged, hostNamespaces, podSpecPatch, resourceTemplates or clusterTemplates."
  }
}

variable "max_workflow_deadline_seconds" {
  type        = number
  description = "Longest activeDeadlineSeconds the Trigger lets a workflow keep; longer ones are capped."
  default     = 14400

  validation {
    condition     = var.max_workflow_deadline_seconds >= 60 && var.max_workflow_deadline_seconds <= 86400
    error_message = "max_workflow_deadline_seconds must be between 60 and 86400."
  }
}

variable "argo_chart_version" {
  type        = string
  description = "Version of the argo-workflows Helm chart (argoproj/argo-helm). Pinned: the Watcher relies on workflow events, which need Argo Workflows 3.6 or later."
  default     = "0.45.4"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.argo_chart_version))
    error_message = "argo_chart_version must be an exact version such as 0.45.4, never a range."
  }
}

variable "expose_argo_ui" {
  type        = bool
  description = "Deploy the Argo UI (read-only) on argo_ui_host over TLS behind Identity-Aware Proxy, for the members in argo_ui_viewers. Off by default."
  default     = false

  validation {
    condition     = !var.expose_argo_ui || (var.argo_ui_host != "" && length(var.argo_ui_viewers) > 0)
    error_message = "expose_argo_ui needs argo_ui_host (for the managed certificate) and at least one member in argo_ui_viewers."
  }
}

variable "argo_ui_viewers" {
  type        = list(string)
  description = "IAM members (user:, group:, domain:) who may open the Argo UI through Identity-Aware Proxy. Never allUsers or allAuthenticatedUsers."
  default     = []

  validation {
    condition     = alltrue([for m in var.argo_ui_viewers : can(regex("^(user|group|domain|serviceAccount):.+", m))])
    error_message = "argo_ui_viewers must be user:, group:, domain: or serviceAccount: members; the UI is never public."
  }
}

variable "argo_ui_oauth_client_secret" {
  type        = string
  description = "Name of a Kubernetes secret in argo_namespace holding client_id and client_secret of an OAuth client for IAP; empty for the Google-managed OAuth client (users of your organisation only)."
  default     = ""
}

variable "argo_ui_host" {
  type        = string
  description = "DNS name of the Argo UI when it is exposed; its A record must point at the argo-ui address (a manual step)."
  default     = ""

  validation {
    condition     = var.argo_ui_host == "" || can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.argo_ui_host))
    error_message = "argo_ui_host must be empty or a DNS name such as argo.ci.example.org."
  }
}

variable "nfs_capacity_gb" {
  type        = number
  description = "Size of the Filestore share the workflows use as /mnt/test-data-volume."
  default     = 1024

  validation {
    condition     = var.nfs_capacity_gb >= 1024
    error_message = "nfs_capacity_gb must be at least 1024 (the smallest BASIC_HDD Filestore instance)."
  }
}

variable "optional_services" {
  type        = list(string)
  description = "APIs enabled apart from kfci's own set, on which nothing depends: e.g. deploymentmanager.googleapis.com where a project still has Deployment Manager deployments for the Janitor to sweep."
  default     = []
}

variable "image_tag" {
  type        = string
  description = "Tag of the function images in Artifact Registry, built by Cloud Build from the repository (see README.md)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag and not 'latest', so that every apply deploys a known build."
  }
}

variable "function_ingress" {
  type        = string
  description = "Ingress of the function services. Pub/Sub push from the same project counts as internal traffic."
  default     = "INGRESS_TRAFFIC_INTERNAL_ONLY"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_ALL"], var.function_ingress)
    error_message = "function_ingress must be INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_ALL."
  }
}

variable "function_max_instances" {
  type        = number
  description = "Upper bound of instances per function, which also bounds the load on GitHub and the cluster API."
  default     = 10

  validation {
    condition     = var.function_max_instances >= 1 && var.function_max_instances <= 100
    error_message = "function_max_instances must be between 1 and 100."
  }
}

variable "function_min_instances" {
  type        = number
  description = "Instances per function kept warm (billed while idle); 0 lets a function scale to zero and pay a cold start on its first event."
  default     = 0

  validation {
    condition     = floor(var.function_min_instances) == var.function_min_instances && var.function_min_instances >= 0 && var.function_min_instances <= var.function_max_instances
    error_message = "function_min_instances must be a whole number between 0 and function_max_instances."
  }
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of one message before Pub/Sub moves it to the dead-letter topic."
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "ack_deadline_seconds" {
  type        = number
  description = "How long a function may take to answer a push request before Pub/Sub redelivers."
  default     = 300

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "retry_minimum_backoff" {
  type        = string
  description = "Shortest delay before Pub/Sub redelivers a message a function failed, e.g. 10s."
  default     = "10s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.retry_minimum_backoff))
    error_message = "retry_minimum_backoff must be a duration in seconds such as 10s."
  }
}

variable "retry_maximum_backoff" {
  type        = string
  description = "Longest delay before Pub/Sub redelivers a message a function failed, at most 600s."
  default     = "600s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.retry_maximum_backoff)) && tonumber(trimsuffix(var.retry_maximum_backoff, "s")) <= 600
    error_message = "retry_maximum_backoff must be a duration in seconds no longer than 600s."
  }
}

variable "crier_service_account" {
  type        = string
  description = "Email of the service account Prow's crier publishes with; granted roles/pubsub.publisher on prow-events. Empty to grant it by hand."
  default     = ""

  validation {
    condition     = var.crier_service_account == "" || can(regex("^[a-z0-9-]+@[a-z0-9.-]+\\.iam\\.gserviceaccount\\.com$", var.crier_service_account))
    error_message = "crier_service_account must be empty or a service account email."
  }
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore database (a region or multi-region such as nam5). It cannot be changed later."
  default     = "nam5"
}

variable "firestore_database" {
  type        = string
  description = "Firestore database id the functions use (KFCI_FIRESTORE_DATABASE)."
  default     = "(default)"

  validation {
    condition     = var.firestore_database == "(default)" || can(regex("^[a-z][a-z0-9-]{2,62}$", var.firestore_database))
    error_message = "firestore_database must be (default) or a database id of 4-63 lowercase letters, digits or hyphens."
  }
}

variable "results_bucket_name" {
  type        = string
  description = "Name of the bucket the Uploader writes Prow's results layout to (the seed used kubernetes-jenkins)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.results_bucket_name))
    error_message = "results_bucket_name must be a valid bucket name."
  }
}

variable "results_bucket_existing" {
  type        = bool
  description = "results_bucket_name is a bucket that already exists (typically Prow's own, so Prow and kfci share one results bucket): use it by name without creating it, deleting it, or putting a lifecycle rule on it. The deploying user needs storage.buckets.get on it and must be able to grant on it (storage.buckets.setIamPolicy)."
  default     = false
}

variable "prow_gcs_writers" {
  type        = list(string)
  description = "IAM members of Prow's components that write the results bucket (pod utilities' sidecar and initupload, crier): roles/storage.objectAdmin on it, e.g. [\"serviceAccount:prow-pods@PROW-PROJECT.iam.gserviceaccount.com\"]."
  default     = []
}

variable "prow_gcs_readers" {
  type        = list(string)
  description = "IAM members of Prow's components that read the results bucket (deck/Spyglass, TestGrid's updater): roles/storage.objectViewer on it."
  default     = []
}

variable "results_public" {
  type        = bool
  description = "Let anyone read the results bucket, as Kubeflow's were for Gubernator. Off unless set."
  default     = false
}

variable "log_retention_days" {
  type        = number
  description = "Age in days after which results under logs/ and pr-logs/ are deleted."
  default     = 365

  validation {
    condition     = var.log_retention_days >= 30
    error_message = "log_retention_days must be at least 30: TestGrid and Spyglass link to recent results."
  }
}

variable "artifacts_retention_days" {
  type        = number
  description = "Age in days after which Argo's archived artifacts and logs are deleted."
  default     = 30

  validation {
    condition     = var.artifacts_retention_days >= 1
    error_message = "artifacts_retention_days must be at least 1."
  }
}

variable "scheduler_time_zone" {
  type        = string
  description = "Time zone of the Cloud Scheduler jobs."
  default     = "Etc/UTC"
}

variable "janitor_schedule" {
  type        = string
  description = "Cron schedule of the janitor sweep."
  default     = "0 */2 * * *"
}

variable "watcher_schedule" {
  type        = string
  description = "Cron schedule of the Watcher's reconcile tick, the safety net for lost Kubernetes events."
  default     = "* * * * *"
}

variable "github_repository" {
  type        = string
  description = "owner/name of the kfci repository on GitHub; when set, a Cloud Build trigger rebuilds the function images on every push to main. The repository must be connected to Cloud Build by hand first."
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must be empty or owner/name."
  }
}

variable "alert_notification_channels" {
  type        = list(string)
  description = "Monitoring notification channel ids (projects/.../notificationChannels/...) the alerts go to."
  default     = []
}

variable "function_error_ratio_threshold" {
  type        = number
  description = "Share of a function's requests answered with 5xx over 10 minutes above which an alert opens."
  default     = 0.1

  validation {
    condition     = var.function_error_ratio_threshold > 0 && var.function_error_ratio_threshold < 1
    error_message = "function_error_ratio_threshold must be between 0 and 1."
  }
}

variable "run_deadline_minutes" {
  type        = number
  description = "Minutes a run may take before the Watcher stops its workflows and records them as timed out (KFCI_RUN_DEADLINE_MINUTES)."
  default     = 180

  validation {
    condition     = var.run_deadline_minutes >= 5 && var.run_deadline_minutes <= 1440
    error_message = "run_deadline_minutes must be between 5 and 1440."
  }
}

variable "results_path_strategy" {
  type        = string
  description = "Prow's GCS path strategy for results: explicit, legacy or single (KFCI_PATH_STRATEGY)."
  default     = "explicit"

  validation {
    condition     = contains(["explicit", "legacy", "single"], var.results_path_strategy)
    error_message = "results_path_strategy must be explicit, legacy or single."
  }
}

variable "results_default_org" {
  type        = string
  description = "Prow's default_org for the legacy and single path strategies (KFCI_DEFAULT_ORG)."
  default     = ""
}

variable "results_default_repo" {
  type        = string
  description = "Prow's default_repo for the legacy and single path strategies (KFCI_DEFAULT_REPO)."
  default     = ""
}

variable "janitor_dry_run" {
  type        = bool
  description = "Let the Janitor only report what it would delete (the default). Set false once a dry-run sweep report shows it deletes only what it should."
  default     = true
}

variable "janitor_protect" {
  type        = list(string)
  description = "Regular expressions of resource names the Janitor must never delete, added to kfci's own (kfci-*, the cluster, system and kfci namespaces)."
  default     = []
}

variable "status_url_template" {
  description = "Link of the GitHub commit statuses kfci sets for the pull-request runs it owns: {path} is the build folder in the results bucket, {job}, {build}, {run} the job, build id and run id (e.g. https://prow.example.com/view/gs/BUCKET/{path}). Empty: no link."
  type        = string
  default     = ""

  validation {
    condition     = var.status_url_template == "" || can(regex("^https?://", var.status_url_template))
    error_message = "status_url_template must be empty or an http(s) URL template."
  }
}

variable "prow_build_project" {
  type        = string
  description = "Project of the Prow build cluster whose job pods run `kfci wait` (Workload Identity on). Empty: no Workload Identity binding for kfci-prow-wait is made."
  default     = ""

  validation {
    condition     = var.prow_build_project == "" || can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.prow_build_project))
    error_message = "prow_build_project must be empty or a GCP project id."
  }
}

variable "prow_build_namespace" {
  type        = string
  description = "Namespace of the Prow build cluster that job pods run in (Prow's pod namespace, test-pods by default)."
  default     = "test-pods"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.prow_build_namespace))
    error_message = "prow_build_namespace must be a valid Kubernetes namespace name."
  }
}

variable "prow_build_ksa" {
  type        = string
  description = "Kubernetes service account the kfci jobs' pods run as in prow_build_namespace (spec.serviceAccountName); it acts as kfci-prow-wait."
  default     = "kfci-wait"

  validation {
    condition     = can(regex("^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$", var.prow_build_ksa))
    error_message = "prow_build_ksa must be a valid Kubernetes service account name."
  }
}

variable "prow_job_service_accounts" {
  type        = list(string)
  description = "Google service-account emails Prow's job pods already run as (their Workload Identity). Each may read runs (roles/datastore.viewer) and results (roles/storage.objectViewer on the results bucket), so `kfci wait` works without a new Kubernetes account (docs/prow.md)."
  default     = []

  validation {
    condition     = alltrue([for e in var.prow_job_service_accounts : can(regex("^[^@\\s]+@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$", e)) || can(regex("^[^@\\s]+@developer\\.gserviceaccount\\.com$", e))])
    error_message = "prow_job_service_accounts holds service-account emails (NAME@PROJECT.iam.gserviceaccount.com), without a serviceAccount: prefix."
  }
}

variable "prow_image_readers" {
  type        = list(string)
  description = "IAM members that pull kfci's images (the `kfci wait` image) from its Artifact Registry repository: the Prow build cluster's node account, e.g. [\"serviceAccount:NODES@PROW-PROJECT.iam.gserviceaccount.com\"]. Granted roles/artifactregistry.reader on that repository only."
  default     = []
}
