locals {
  argo_server_account = "argo-server"

  # The chart's values (argoproj/argo-helm charts/argo-workflows/values.yaml, the pinned version), kept
  # as a local so that tests read them as data.
  argo_values = {
    # The controller lives in its own namespace and runs the workflows of var.workflow_namespace.
    singleNamespace = false
    controller = {
      workflowNamespaces = [var.workflow_namespace]
      # No ClusterWorkflowTemplates: a workflow can only use templates of its own namespace.
      clusterWorkflowTemplates = {
        enabled = false
      }
      # The Watcher's event path: the controller emits WorkflowSucceeded/Failed/TimedOut events,
      # Cloud Logging receives them and the sink in logging.tf publishes them to argo-events.
      workflowEvents = {
        enabled = true
      }
      # Every workflow that names no account runs as the restricted one (not the namespace's default,
      # which may not create the WorkflowTaskResults the executor reports with).
      workflowDefaults = {
        spec = {
          serviceAccountName = var.workflow_accounts.restricted.kubernetes
        }
      }
    }
    # workflow_identities.tf declares the workflow accounts and their Role; the chart's would be a
    # third account with other rights.
    workflow = {
      serviceAccount = {
        create = false
      }
      rbac = {
        create = false
      }
    }
    artifactRepository = {
      archiveLogs = true
      # The chart passes gcs through Helm's tpl: Argo's own {{...}} must be quoted for tpl, as the
      # chart's values.yaml shows, or the release fails with 'function "workflow" not defined'.
      gcs = {
        bucket    = var.argo_artifacts_bucket
        keyFormat = "{{ \"{{workflow.name}}/{{pod.name}}\" }}"
      }
    }
    # The UI exists only when exposed, and then only behind Identity-Aware Proxy over TLS: the
    # Ingress serves https with a managed certificate, the backend has IAP on, and the server's own
    # account may only read (rbac.tf), so even a signed-in viewer cannot create a workflow or read a secret.
    server = {
      enabled     = var.argo_ui.expose
      authModes   = ["server"]
      serviceType = "ClusterIP"
      serviceAccount = {
        create = true
        name   = local.argo_server_account
      }
      rbac = {
        create = false
      }
      # The chart passes --namespaced only with singleNamespace, which would also confine the controller to its own
      # namespace. Without it the server watches every namespace, which its Roles (rbac.tf) do not allow: it runs
      # namespaced, managing the workflow namespace only.
      extraArgs = ["--namespaced", "--managed-namespace=${var.workflow_namespace}"]
      clusterWorkflowTemplates = {
        enabled = false
      }
      serviceAnnotations = {
        "cloud.google.com/neg"            = jsonencode({ ingress = true })
        "cloud.google.com/backend-config" = jsonencode({ default = "argo-workflows-server" })
      }
      ingress = {
        enabled = var.argo_ui.expose
        hosts   = var.argo_ui.host == "" ? [] : [var.argo_ui.host]
        annotations = {
          "kubernetes.io/ingress.class"                 = "gce"
          "kubernetes.io/ingress.global-static-ip-name" = var.argo_ui.address_name
          "kubernetes.io/ingress.allow-http"            = "false"
          "networking.gke.io/managed-certificates"      = "argo-workflows-server"
        }
      }
      GKEmanagedCertificate = {
        enabled = var.argo_ui.expose
        domains = var.argo_ui.host == "" ? [] : [var.argo_ui.host]
      }
      GKEbackendConfig = {
        enabled = var.argo_ui.expose
        spec = {
          iap = merge(
            { enabled = true },
            var.argo_ui.oauth_client_secret == "" ? {} : { oauthclientCredentials = { secretName = var.argo_ui.oauth_client_secret } },
          )
        }
      }
    }
  }
}

resource "helm_release" "argo_workflows" {
  name       = "argo-workflows"
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argo-workflows"
  version    = var.argo_chart_version
  namespace  = kubernetes_namespace.argo.metadata[0].name

  values = [yamlencode(local.argo_values)]

  depends_on = [kubernetes_role_binding.workflow_executor]
}
