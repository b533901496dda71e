# Who may open the Argo UI: an IAP grant on the UI's own backend service, not on every IAP-protected application
# of the project. GKE's Ingress controller creates that backend service and names it (k8s1-…-argo-workflows-server-…)
# only once it has programmed the load balancer, minutes after the release; it then lists the names in the Ingress's
# ingress.kubernetes.io/backends annotation. The generic kubernetes_resource data source is read because the typed
# Ingress data source drops every *.kubernetes.io annotation. No IAP brand is declared: the IAP OAuth Admin API
# (brands and clients) was shut down on 2026-03-19, and IAP uses its Google-managed OAuth client unless
# oauth_client_secret names a client made in the console.
resource "time_sleep" "argo_ui_backend" {
  count = var.argo_ui.expose ? 1 : 0

  create_duration = "300s"

  triggers = {
    release = helm_release.argo_workflows.id
    host    = var.argo_ui.host
  }
}

data "kubernetes_resource" "argo_ui_ingress" {
  count = var.argo_ui.expose ? 1 : 0

  api_version = "networking.k8s.io/v1"
  kind        = "Ingress"

  metadata {
    name      = "argo-workflows-server"
    namespace = kubernetes_namespace.argo.metadata[0].name
  }

  depends_on = [time_sleep.argo_ui_backend]
}

locals {
  argo_ui_backends = var.argo_ui.expose ? keys(jsondecode(try(data.kubernetes_resource.argo_ui_ingress[0].object.metadata.annotations["ingress.kubernetes.io/backends"], "{}"))) : []
  # The Ingress also lists the cluster's default backend; the UI's is the one named after the server's Service.
  argo_ui_backend = one([for name in local.argo_ui_backends : name if strcontains(name, "argo-workflows-server")])
}

resource "google_iap_web_backend_service_iam_member" "argo_ui_viewer" {
  for_each = var.argo_ui.expose ? toset(var.argo_ui.viewers) : toset([])

  project             = var.project_id
  web_backend_service = local.argo_ui_backend
  role                = "roles/iap.httpsResourceAccessor"
  member              = each.value

  lifecycle {
    precondition {
      condition     = local.argo_ui_backend != null
      error_message = "the Argo UI's Ingress has no backend service yet (annotation ingress.kubernetes.io/backends); GKE is still programming the load balancer: apply again in a few minutes."
    }
  }
}

# Inside the cluster the server is reachable only from where the load balancer connects: Google's front ends (which
# carry the IAP-authenticated requests to a container-native backend) and its health checks, from the ranges GKE's
# documentation names for both. Without this, any pod, a pull request's workflow among them, could call the
# server's API directly with no IAP in between. GKE enforces it with Dataplane V2 (cluster.tf in the first module).
locals {
  load_balancer_source_ranges = ["35.191.0.0/16", "130.211.0.0/22"]
}

resource "kubernetes_network_policy" "argo_server" {
  count = var.argo_ui.expose ? 1 : 0

  metadata {
    name      = "argo-server-from-load-balancer-only"
    namespace = kubernetes_namespace.argo.metadata[0].name
  }

  spec {
    # The chart's selector labels of the server's pods (release argo-workflows).
    pod_selector {
      match_labels = {
        "app.kubernetes.io/name"     = "argo-workflows-server"
        "app.kubernetes.io/instance" = "argo-workflows"
      }
    }

    policy_types = ["Ingress"]

    ingress {
      dynamic "from" {
        for_each = local.load_balancer_source_ranges

        content {
          ip_block {
            cidr = from.value
          }
        }
      }

      ports {
        port     = "2746"
        protocol = "TCP"
      }
    }
  }
}
