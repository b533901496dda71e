# Results in Prow's layout (logs/, pr-logs/) for Spyglass, Gubernator and TestGrid: a bucket kfci creates, or Prow's
# existing bucket (results_bucket_existing), which kfci uses by name and never manages: no lifecycle rule, no
# force_destroy, no public access setting of its own. Everything else names local.results_bucket.
resource "google_storage_bucket" "results" {
  count = var.results_bucket_existing ? 0 : 1

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

# Read, not managed: a plan fails early when the named bucket does not exist or cannot be read.
data "google_storage_bucket" "existing_results" {
  count = var.results_bucket_existing ? 1 : 0

  name = var.results_bucket_name
}

locals {
  results_bucket = var.results_bucket_existing ? data.google_storage_bucket.existing_results[0].name : google_storage_bucket.results[0].name
}

# Prow's components share the results bucket with kfci: pod utilities (sidecar, initupload) and crier write
# (prow_gcs_writers), deck/Spyglass and TestGrid's updater read (prow_gcs_readers). Empty when their grants live
# elsewhere, e.g. on Prow's own bucket already.
resource "google_storage_bucket_iam_member" "prow_gcs_writers" {
  for_each = toset(var.prow_gcs_writers)

  bucket = local.results_bucket
  role   = "roles/storage.objectAdmin"
  member = each.value
}

resource "google_storage_bucket_iam_member" "prow_gcs_readers" {
  for_each = toset(var.prow_gcs_readers)

  bucket = local.results_bucket
  role   = "roles/storage.objectViewer"
  member = each.value
}

# Kubeflow's results were world-readable so that Gubernator could show them.
resource "google_storage_bucket_iam_member" "results_public" {
  count = var.results_public ? 1 : 0

  bucket = local.results_bucket
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

# The Uploader writes results; finished.json and latest-build.txt are rewritten with preconditions.
resource "google_storage_bucket_iam_member" "uploader_results" {
  bucket = local.results_bucket
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
