# The dashboard (dashboard/, docs/dashboard.md) as one more Cloud Run service, behind Identity-Aware Proxy.
#
# IAP is switched on on the service itself (Cloud Run's direct IAP integration): it guards every way in, the run.app
# URL included, with no load balancer to provision. The service's own IAM check stays on and only IAP's service agent
# may invoke it, so a request that did not pass IAP is refused even if someone later opens the ingress. Who may look
# is var.dashboard_viewers (roles/iap.httpsResourceAccessor on this service only).
#
# The dashboard only reads: its account can read Firestore documents and the results bucket's objects, nothing else.
# `iap_enabled` is a beta field of google_cloud_run_v2_service in the provider versions pinned here, so this service is
# declared through google-beta with launch_stage BETA.

variable "dashboard_viewers" {
  description = "Who may open the dashboard through IAP (roles/iap.httpsResourceAccessor), as IAM members: user:a@example.com, group:team@example.com, domain:example.com. Empty: nobody."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.dashboard_viewers : can(regex("^(user|group|domain|serviceAccount):[^\\s]+$", m))])
    error_message = "Each dashboard viewer must be an IAM member: user:EMAIL, group:EMAIL, domain:DOMAIN or serviceAccount:EMAIL (never allUsers or allAuthenticatedUsers)."
  }
}

variable "dashboard_max_instances" {
  description = "Upper bound on the dashboard's Cloud Run instances (a few people read it; each page is a bounded query)."
  type        = number
  default     = 2

  validation {
    condition     = var.dashboard_max_instances >= 1 && var.dashboard_max_instances <= 10
    error_message = "dashboard_max_instances must be between 1 and 10."
  }
}

resource "google_service_account" "dashboard" {
  account_id   = "kfci-dashboard"
  project      = var.project_id
  display_name = "kfci dashboard (read-only)"

  depends_on = [google_project_service.enabled]
}

# Reads runs, test summaries and sweeps; cannot write any document.
resource "google_project_iam_member" "dashboard_firestore_reader" {
  project = var.project_id
  role    = "roles/datastore.viewer"
  member  = "serviceAccount:${google_service_account.dashboard.email}"
}

# Reads build logs and step logs from the results bucket, and no other bucket.
resource "google_storage_bucket_iam_member" "dashboard_results_reader" {
  bucket = local.results_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.dashboard.email}"
}

# IAP's service agent (service-PROJECT_NUMBER@gcp-sa-iap.iam.gserviceaccount.com) is the identity IAP invokes the
# service as; creating it explicitly makes it exist before the invoker grant names it.
resource "google_project_service_identity" "iap" {
  provider = google-beta

  project = var.project_id
  service = "iap.googleapis.com"

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_run_v2_service" "dashboard" {
  provider = google-beta

  name                = "kfci-dashboard"
  project             = var.project_id
  location            = var.region
  launch_stage        = "BETA"
  deletion_protection = false

  # IAP on the service guards the run.app URL itself; the invoker check (on by default) admits only IAP's agent.
  iap_enabled = true
  ingress     = "INGRESS_TRAFFIC_ALL"

  template {
    service_account = google_service_account.dashboard.email
    # Every page is one bounded query; live pages poll with short requests rather than holding a connection.
    timeout                          = "60s"
    max_instance_request_concurrency = 80

    scaling {
      min_instance_count = 0
      max_instance_count = var.dashboard_max_instances
    }

    containers {
      image = "${local.image_repository}/dashboard:${var.image_tag}"

      # Cloud Run sets PORT itself (8080); the dashboard listens on it.
      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
        cpu_idle = true
      }

      # The same stores the functions write, and the results layout the Uploader writes to (names from
      # shared/Configuration/KfciEnvironment.cs).
      dynamic "env" {
        for_each = {
          KFCI_PROJECT            = var.project_id
          KFCI_FIRESTORE_DATABASE = google_firestore_database.kfci.name
          KFCI_RESULTS_BUCKET     = local.results_bucket
          KFCI_PATH_STRATEGY      = var.results_path_strategy
          KFCI_DEFAULT_ORG        = var.results_default_org
          KFCI_DEFAULT_REPO       = var.results_default_repo
        }

        content {
          name  = env.key
          value = env.value
        }
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.dashboard_firestore_reader,
    google_storage_bucket_iam_member.dashboard_results_reader,
    time_sleep.secret_grants,
    # The grid and flakiness queries fail until their indexes are built; the provider waits for each build.
    google_firestore_index.test_columns_by_job,
    google_firestore_field.test_columns_by_time,
  ]
}

# Only IAP's service agent may invoke the service: IAP checks the viewer, then calls Cloud Run as its agent.
resource "google_cloud_run_v2_service_iam_member" "dashboard_iap_invoker" {
  provider = google-beta

  project  = var.project_id
  location = google_cloud_run_v2_service.dashboard.location
  name     = google_cloud_run_v2_service.dashboard.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_project_service_identity.iap.email}"
}

# Who passes IAP: the viewers, on this service only.
resource "google_iap_web_cloud_run_service_iam_member" "dashboard_viewer" {
  provider = google-beta
  for_each = toset(var.dashboard_viewers)

  project                = var.project_id
  location               = google_cloud_run_v2_service.dashboard.location
  cloud_run_service_name = google_cloud_run_v2_service.dashboard.name
  role                   = "roles/iap.httpsResourceAccessor"
  member                 = each.value
}

output "dashboard_url" {
  description = "The dashboard's URL; IAP asks viewers to sign in."
  value       = google_cloud_run_v2_service.dashboard.uri
}
