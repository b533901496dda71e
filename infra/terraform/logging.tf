# Argo's workflow events in the test cluster reach the Watcher through this sink: Cloud Logging
# receives the cluster's Kubernetes events, the sink publishes the finished-workflow ones to
# argo-events.
resource "google_logging_project_sink" "argo_events" {
  name        = "kfci-argo-events"
  project     = var.project_id
  destination = "pubsub.googleapis.com/${google_pubsub_topic.argo_events.id}"

  filter = join(" AND ", [
    "resource.type=\"k8s_cluster\"",
    "resource.labels.cluster_name=\"${google_container_cluster.testing.name}\"",
    "log_id(\"events\")",
    "jsonPayload.involvedObject.kind=\"Workflow\"",
    "jsonPayload.involvedObject.namespace=\"${var.workflow_namespace}\"",
    "jsonPayload.reason=(\"WorkflowSucceeded\" OR \"WorkflowFailed\" OR \"WorkflowTimedOut\")",
  ])

  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "argo_events_sink" {
  project = var.project_id
  topic   = google_pubsub_topic.argo_events.id
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.argo_events.writer_identity
}
