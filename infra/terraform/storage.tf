# Results in Prow's layout (logs/, pr-logs/) for Spyglass, Gubernator and TestGrid.
resource "google_storage_bucket" "results" {
  name     = var.results_bucket_name
  project  = var.project_id
  location = upper(var.region)

  uniform_bucket_level_access = true
  public_access_prevention    = var.results_public ? "inherited" : "enforced"
  force_destroy               = !var.deletion_protection

  lifecycle_rule {
    condition {
      age            = var.log_retention_days
      matches_prefix = ["logs/", "pr-logs/"]
    }

    action {
      type = "Delete"
    }
  }
}

# Kubeflow's results were world-readable so that Gubernator could show them.
resource "google_storage_bucket_iam_member" "results_public" {
  count = var.results_public ? 1 : 0

  bucket = google_storage_bucket.results.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

# The Uploader writes results; finished.json and latest-build.txt are rewritten with preconditions.
resource "google_storage_bucket_iam_member" "uploader_results" {
  bucket = google_storage_bucket.results.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.uploader.email}"
}

# Argo's artifact repository: archived step logs and artifacts, kept for a short time.
resource "google_storage_bucket" "argo_artifacts" {
  name     = "${var.project_id}-kfci-argo-artifacts"
  project  = var.project_id
  location = upper(var.region)

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    condition {
      age = var.artifacts_retention_days
    }

    action {
      type = "Delete"
    }
  }
}

# Argo's executor archives each step's log (and passes artifacts between steps) here with the identity
# of the workflow's pod: it writes new objects and reads them, but cannot delete or overwrite another
# run's.
resource "google_storage_bucket_iam_member" "pr_workflow_argo_artifacts" {
  for_each = toset(["roles/storage.objectCreator", "roles/storage.objectViewer"])

  bucket = google_storage_bucket.argo_artifacts.name
  role   = each.value
  member = "serviceAccount:${google_service_account.pr_workflow.email}"
}

resource "google_storage_bucket_iam_member" "uploader_argo_artifacts" {
  bucket = google_storage_bucket.argo_artifacts.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.uploader.email}"
}
