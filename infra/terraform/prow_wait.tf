# The identity of `kfci wait`, which a Prow job's pod runs (docs/prow.md): it reads runs and results and writes
# nothing. The Prow build cluster's Kubernetes service account acts as it through Workload Identity, once
# prow_build_project names that cluster's project (whose cluster must have Workload Identity on: the binding names
# its pool). Without it, the account exists and a Prow operator binds it by hand.
resource "google_service_account" "prow_wait" {
  account_id   = "kfci-prow-wait"
  project      = var.project_id
  display_name = "kfci wait in Prow job pods (read-only)"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "prow_wait_runs" {
  project = var.project_id
  role    = "roles/datastore.viewer"
  member  = "serviceAccount:${google_service_account.prow_wait.email}"
}

resource "google_storage_bucket_iam_member" "prow_wait_results" {
  bucket = local.results_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.prow_wait.email}"
}

resource "google_service_account_iam_member" "prow_wait_workload_identity" {
  count = var.prow_build_project == "" ? 0 : 1

  service_account_id = google_service_account.prow_wait.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.prow_build_project}.svc.id.goog[${var.prow_build_namespace}/${var.prow_build_ksa}]"
}

# Prow's job pods may already run as Google accounts of their own (docs/prow.md, "Identity"): those read runs and
# results as kfci-prow-wait does, and nothing more.
resource "google_project_iam_member" "prow_job_runs" {
  for_each = toset(var.prow_job_service_accounts)

  project = var.project_id
  role    = "roles/datastore.viewer"
  member  = "serviceAccount:${each.value}"
}

resource "google_storage_bucket_iam_member" "prow_job_results" {
  for_each = toset(var.prow_job_service_accounts)

  bucket = local.results_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${each.value}"
}

# The Prow build cluster's nodes pull the `kfci wait` image from kfci's repository, and only from it.
resource "google_artifact_registry_repository_iam_member" "prow_image_readers" {
  for_each = toset(var.prow_image_readers)

  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}
