# The chain's topics. Each function consumes through its own push subscription (functions.tf
# declares which), so a message one function fails on is retried for that function alone.

resource "google_pubsub_topic" "prow_events" {
  name    = "prow-events"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "run_submitted" {
  name    = "run-submitted"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "run_completed" {
  name    = "run-completed"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "run_finished" {
  name    = "run-finished"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "argo_events" {
  name    = "argo-events"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "watcher_ticks" {
  name    = "watcher-ticks"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "janitor_ticks" {
  name    = "janitor-ticks"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  name    = "kfci-dead-letter"
  project = var.project_id

  depends_on = [google_project_service.enabled]
}

# Messages that exhausted their deliveries wait here for on-call (the alert in monitoring.tf fires
# while it is not empty). A pull subscription: nothing consumes it automatically.
resource "google_pubsub_subscription" "dead_letter" {
  name    = "kfci-dead-letter"
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.id

  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

locals {
  # "<topic>-to-<function>" for every topic a function consumes.
  push_subscriptions = merge([
    for function, config in local.functions : {
      for name, topic in config.consumes : "${name}-to-${function}" => {
        function = function
        topic    = topic
      }
    }
  ]...)

  publisher_grants = merge([
    for function, config in local.functions : {
      for topic in config.publishes : "${function}-${topic.name}" => {
        function = function
        topic    = topic
      }
    }
  ]...)
}

resource "google_pubsub_subscription" "push" {
  for_each = local.push_subscriptions

  name    = each.key
  project = var.project_id
  topic   = each.value.topic.id

  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  # The path names the topic, so the function host knows where a raw push envelope came from.
  push_config {
    push_endpoint = "${google_cloud_run_v2_service.function[each.value.function].uri}/projects/${var.project_id}/topics/${each.value.topic.name}"

    # The function checks both: the token must name this account and its own audience (KFCI_PUSH_SERVICE_ACCOUNT, KFCI_PUSH_AUDIENCE).
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
      audience              = local.functions[each.value.function].env.KFCI_PUSH_AUDIENCE
    }
  }

  depends_on = [google_service_account_iam_member.pubsub_agent_token_creator]
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to the dead-letter topic
# and acknowledge (subscribe to) each source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = google_pubsub_subscription.push

  project      = var.project_id
  subscription = each.value.id
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# Each function may publish only to the topics it produces.
resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = local.publisher_grants

  project = var.project_id
  topic   = each.value.topic.id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.functions[each.value.function].service_account}"
}

# Prow's crier reports job states to prow-events (docs/prow.md).
resource "google_pubsub_topic_iam_member" "crier_publisher" {
  count = var.crier_service_account == "" ? 0 : 1

  project = var.project_id
  topic   = google_pubsub_topic.prow_events.id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.crier_service_account}"
}
