# The Argo UI is off unless expose_argo_ui is set. Then cluster/argo.tf serves it on argo_ui_host over
# TLS (Google-managed certificate) behind Identity-Aware Proxy; only the members in argo_ui_viewers get through
# IAP, granted on the UI's backend service alone (cluster/argo_ui.tf), and the server they reach can only read.
# There is no public, unauthenticated path to it.
resource "google_compute_global_address" "argo_ui" {
  count = var.expose_argo_ui ? 1 : 0

  name    = "argo-ui"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}
