# The Argo UI is off unless expose_argo_ui is set. Then cluster/argo.tf serves it on argo_ui_host over
# TLS (Google-managed certificate) behind Identity-Aware Proxy; only the members listed here get through
# IAP, and the server they reach can only read. There is no public, unauthenticated path to it.
resource "google_compute_global_address" "argo_ui" {
  count = var.expose_argo_ui ? 1 : 0

  name    = "argo-ui"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_iap_web_iam_member" "argo_ui_viewer" {
  for_each = var.expose_argo_ui ? toset(var.argo_ui_viewers) : toset([])

  project = var.project_id
  role    = "roles/iap.httpsResourceAccessor"
  member  = each.value
}
