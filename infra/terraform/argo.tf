locals {
  argo_workflow_service_account = "argo-workflow"
}

resource "helm_release" "argo_workflows" {
  name       = "argo-workflows"
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argo-workflows"
  version    = var.argo_chart_version
  namespace  = kubernetes_namespace.test_infra.metadata[0].name

  values = [yamlencode({
    singleNamespace = true
    controller = {
      workflowNamespaces = [var.workflow_namespace]
      # The Watcher's event path: the controller emits WorkflowSucceeded/Failed/TimedOut events,
      # Cloud Logging receives them and the sink in logging.tf publishes them to argo-events.
      workflowEvents = {
        enabled = true
      }
    }
    # Pods of every workflow run as this account, which Workload Identity maps to the
    # test-workflow Google service account.
    workflow = {
      serviceAccount = {
        create = true
        name   = local.argo_workflow_service_account
        annotations = {
          "iam.gke.io/gcp-service-account" = google_service_account.test_workflow.email
        }
      }
      rbac = {
        create = true
      }
    }
    useDefaultArtifactRepo = true
    artifactRepository = {
      archiveLogs = true
      gcs = {
        bucket    = google_storage_bucket.argo_artifacts.name
        keyFormat = "{{workflow.name}}/{{pod.name}}"
      }
    }
    # The UI is read-only for its users through the server's own account; it is reachable from
    # outside only when expose_argo_ui is set, as the seed's testing (not release) cluster was.
    server = {
      enabled     = true
      authModes   = ["server"]
      serviceType = "NodePort"
      ingress = {
        enabled = var.expose_argo_ui
        hosts   = var.argo_ui_host == "" ? [] : [var.argo_ui_host]
        annotations = {
          "kubernetes.io/ingress.class"                 = "gce"
          "kubernetes.io/ingress.global-static-ip-name" = "argo-ui"
        }
      }
    }
  })]

  depends_on = [google_service_account_iam_member.test_workflow_workload_identity]
}

resource "google_compute_global_address" "argo_ui" {
  count = var.expose_argo_ui ? 1 : 0

  name    = "argo-ui"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}
