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

  substitutions = {
    _REGION = var.region
  }
}
