# The APIs kfci itself needs; everything that calls one depends on this set (service accounts too: on a fresh
# project the IAM API is off and creating an account races its enablement). Cloud Resource Manager answers the
# project-level IAM policy reads and writes of every google_project_iam_member. Only APIs a fresh project
# can still enable belong here: Container Registry is shut down (images live in Artifact Registry)
# and Deployment Manager reached end of support on 2026-03-31, so either would fail the apply and
# block everything after it.
locals {
  services = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "file.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iap.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
  ])
}

resource "google_project_service" "enabled" {
  for_each = local.services

  project = var.project_id
  service = each.value

  # Other systems in the project may use these APIs too; removing kfci must not switch them off.
  disable_on_destroy = false
}

# APIs only the Janitor's sweep uses where a project still has them (Deployment Manager): enabled on
# request, and nothing depends on them, so one that can no longer be enabled fails alone. The
# Janitor says in its sweep which APIs did not answer and sweeps the others.
resource "google_project_service" "optional" {
  for_each = toset(var.optional_services)

  project = var.project_id
  service = each.value

  disable_on_destroy = false
}

# The Pub/Sub service agent pushes messages, signs the push OIDC tokens and moves undeliverable
# messages to the dead-letter topic. Creating its identity explicitly makes it exist before the
# grants below name it.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.enabled]
}

data "google_project" "current" {
  project_id = var.project_id
}
