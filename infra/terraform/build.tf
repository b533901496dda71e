# Function images: Artifact Registry holds them, Cloud Build builds them from the repository with
# cloudbuild.yaml (by hand with `gcloud builds submit`, or on every push when github_repository is set).
resource "google_artifact_registry_repository" "functions" {
  repository_id = "kfci"
  project       = var.project_id
  location      = var.region
  format        = "DOCKER"
  description   = "kfci function images"

  depends_on = [google_project_service.enabled]
}

resource "google_cloudbuild_trigger" "functions" {
  count = var.github_repository == "" ? 0 : 1

  name            = "kfci-functions"
  project         = var.project_id
  location        = var.region
  filename        = "infra/terraform/cloudbuild.yaml"
  service_account = google_service_account.builder.id

  github {
    owner = split("/", var.github_repository)[0]
    name  = split("/", var.github_repository)[1]

    push {
      branch = "^main$"
    }
  }

  # The image tag is the commit; "$${SHORT_SHA}" reaches Cloud Build as ${SHORT_SHA}, which only triggered builds have.
  substitutions = {
    _REGION = var.region
    _TAG    = "$${SHORT_SHA}"
  }
}

# The build pushes to this repository and no other; the nodes pull the debug worker from it.
resource "google_artifact_registry_repository_iam_member" "builder_writer" {
  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.builder.email}"
}

resource "google_artifact_registry_repository_iam_member" "nodes_reader" {
  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.nodes.email}"
}

# Where `gcloud builds submit` uploads the source (--gcs-source-staging-dir): a bucket of this
# configuration that the build account may read, instead of the default PROJECT_cloudbuild bucket,
# which a user-specified build account cannot read unless granted by hand.
resource "google_storage_bucket" "build_source" {
  name     = "${var.project_id}-kfci-build-source"
  project  = var.project_id
  location = upper(var.region)

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    condition {
      age = 7
    }

    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_iam_member" "builder_source" {
  bucket = google_storage_bucket.build_source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.builder.email}"
}
