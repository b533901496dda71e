# The GitHub token the Trigger reads prow_config.yaml and changed files with. Terraform creates the
# secret only; its value is added by hand (README.md) so it never appears in plans or state.
resource "google_secret_manager_secret" "github_token" {
  secret_id = "kfci-github-token"
  project   = var.project_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "trigger_github_token" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.github_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.trigger.email}"
}
