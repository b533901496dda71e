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
  value       = local.results_bucket
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

output "workflow_service_accounts" {
  description = "Google service accounts the workflow pods act as: restricted (pull requests) and trusted (postsubmit/periodic of trusted_repositories)."
  value = {
    restricted = google_service_account.pr_workflow.email
    trusted    = google_service_account.trusted_workflow.email
  }
}

# Everything the second root module (cluster/) needs, as its variables:
#   terraform output -json cluster_inputs > cluster/platform.auto.tfvars.json
output "cluster_inputs" {
  description = "Variables of the cluster/ root module (the test cluster's contents), written to cluster/platform.auto.tfvars.json."
  value = {
    project_id            = var.project_id
    zone                  = var.zone
    cluster_name          = google_container_cluster.testing.name
    workflow_namespace    = var.workflow_namespace
    workflow_pod_security = var.workflow_pod_security
    argo_namespace        = var.argo_namespace
    argo_chart_version    = var.argo_chart_version
    argo_artifacts_bucket = google_storage_bucket.argo_artifacts.name
    workflow_accounts = {
      restricted = { kubernetes = local.workflow_kubernetes_accounts.restricted, google = google_service_account.pr_workflow.email }
      trusted    = { kubernetes = local.workflow_kubernetes_accounts.trusted, google = google_service_account.trusted_workflow.email }
    }
    function_accounts  = { for name, function in local.functions : name => function.service_account }
    nfs_instance       = google_filestore_instance.nfs.name
    nfs_capacity_gb    = var.nfs_capacity_gb
    debug_worker_image = "${local.image_repository}/debug-worker:${var.image_tag}"
    argo_ui = {
      expose              = var.expose_argo_ui
      host                = var.argo_ui_host
      address_name        = var.expose_argo_ui ? google_compute_global_address.argo_ui[0].name : ""
      oauth_client_secret = var.argo_ui_oauth_client_secret
      viewers             = var.argo_ui_viewers
    }
  }
}

output "prow_wait" {
  description = "What a Prow job running `kfci wait` needs: its image, the Google account its pod's Kubernetes service account acts as, and the KFCI_PROJECT and KFCI_FIRESTORE_DATABASE its container needs."
  value = {
    image           = "${local.image_repository}/kfci:${var.image_tag}"
    service_account = google_service_account.prow_wait.email
    # The job's environment: kfci wait reads runs from this project's Firestore database.
    KFCI_PROJECT            = var.project_id
    KFCI_FIRESTORE_DATABASE = google_firestore_database.kfci.name
  }
}

output "github_token_secret" {
  description = "Secret Manager secret that must hold the GitHub token (add its value by hand)."
  value       = google_secret_manager_secret.github_token.id
}
