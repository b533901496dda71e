output "function_urls" {
  description = "URL of each function service (callable only by the Pub/Sub push identity)."
  value       = { for name, service in google_cloud_run_v2_service.function : name => service.uri }
}

output "topics" {
  description = "Names of the chain's Pub/Sub topics."
  value = {
    prow_events   = google_pubsub_topic.prow_events.name
    run_submitted = google_pubsub_topic.run_submitted.name
    run_completed = google_pubsub_topic.run_completed.name
    run_finished  = google_pubsub_topic.run_finished.name
    argo_events   = google_pubsub_topic.argo_events.name
    watcher_ticks = google_pubsub_topic.watcher_ticks.name
    janitor_ticks = google_pubsub_topic.janitor_ticks.name
    dead_letter   = google_pubsub_topic.dead_letter.name
  }
}

output "push_subscriptions" {
  description = "Push subscription of each (topic, function) pair, named <topic>-to-<function>."
  value       = sort(keys(google_pubsub_subscription.push))
}

output "results_bucket" {
  description = "Bucket the results are published to, in Prow's layout."
  value       = google_storage_bucket.results.name
}

output "argo_ui_address" {
  description = "Global address of the Argo UI when it is exposed (point the argo_ui_host DNS record here), else null."
  value       = var.expose_argo_ui ? google_compute_global_address.argo_ui[0].address : null
}

output "cluster" {
  description = "The test cluster; `gcloud container clusters get-credentials NAME --zone ZONE` gives kubectl access."
  value = {
    name = google_container_cluster.testing.name
    zone = google_container_cluster.testing.location
  }
}

output "test_workflow_service_account" {
  description = "Google service account the test workflow pods act as."
  value       = google_service_account.test_workflow.email
}

output "github_token_secret" {
  description = "Secret Manager secret that must hold the GitHub token (add its value by hand)."
  value       = google_secret_manager_secret.github_token.id
}
