# Alerts for what needs a person: messages that exhausted their retries, a function failing, and a
# janitor that stopped cleaning.

resource "google_monitoring_alert_policy" "dead_letter_not_empty" {
  project      = var.project_id
  display_name = "kfci: messages in the dead-letter subscription"
  combiner     = "OR"

  conditions {
    display_name = "kfci-dead-letter has undelivered messages"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "A kfci message failed ${var.max_delivery_attempts} deliveries. Pull it with `gcloud pubsub subscriptions pull kfci-dead-letter --limit=10`, read the function's logs for the messageId, fix the cause and republish it to its topic."
    mime_type = "text/markdown"
  }

  notification_channels = var.alert_notification_channels
}

resource "google_monitoring_alert_policy" "function_errors" {
  project      = var.project_id
  display_name = "kfci: function error rate"
  combiner     = "OR"

  conditions {
    display_name = "share of 5xx responses per function"

    condition_threshold {
      filter                  = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = starts_with(\"kfci-\") AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter      = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = starts_with(\"kfci-\") AND metric.type = \"run.googleapis.com/request_count\""
      comparison              = "COMPARISON_GT"
      threshold_value         = var.function_error_ratio_threshold
      duration                = "600s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }

      denominator_aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }

  notification_channels = var.alert_notification_channels
}

# The Janitor logs one structured entry per sweep: jsonPayload.fields.event = "sweep.finished" (kfci's JSON log
# format puts template arguments under "fields") with
# outcome ("succeeded", "partial", "failed"), deleted (count) and dryRun.
resource "google_logging_metric" "janitor_failed_sweeps" {
  name    = "kfci_janitor_failed_sweeps"
  project = var.project_id
  filter  = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"kfci-janitor\" AND jsonPayload.fields.event = \"sweep.finished\" AND jsonPayload.fields.outcome = \"failed\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_logging_metric" "janitor_deleting_sweeps" {
  name    = "kfci_janitor_deleting_sweeps"
  project = var.project_id
  filter  = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"kfci-janitor\" AND jsonPayload.fields.event = \"sweep.finished\" AND jsonPayload.fields.dryRun = false AND jsonPayload.fields.deleted > 0"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

# Monitoring answers "Cannot find metric(s)" for a log-based metric up to ten minutes after it was created
# (hashicorp/terraform-provider-google#11102; the API's own message says so), so an alert policy created in the
# same apply fails. Depending on the metric alone is not enough: the metric exists, its descriptor does not yet.
# The wait runs only when a metric is (re)created, in parallel with the cluster's creation on the first apply.
resource "time_sleep" "janitor_metrics_propagated" {
  create_duration = "600s"

  triggers = {
    failed_sweeps   = google_logging_metric.janitor_failed_sweeps.id
    deleting_sweeps = google_logging_metric.janitor_deleting_sweeps.id
  }
}

# Two policies, not one with two conditions: Monitoring refuses a policy that mixes a PromQL condition with any
# other (a PromQL or MQL condition must be the policy's only condition).
resource "google_monitoring_alert_policy" "janitor_failed" {
  project      = var.project_id
  display_name = "kfci: janitor sweep failed"
  combiner     = "OR"

  conditions {
    display_name = "a janitor sweep failed"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.janitor_failed_sweeps.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_DELTA"
      }
    }
  }

  notification_channels = var.alert_notification_channels

  depends_on = [time_sleep.janitor_metrics_propagated]
}

# A test project always leaks something within a day; a janitor that deletes nothing for that
# long is broken or blocked (the old one silently stopped on the first API error).
resource "google_monitoring_alert_policy" "janitor_stalled" {
  project      = var.project_id
  display_name = "kfci: janitor deleted nothing for a day"
  combiner     = "OR"

  conditions {
    display_name = "no janitor sweep deleted anything for 24 hours"

    condition_prometheus_query_language {
      query    = "absent_over_time(logging_googleapis_com:user_${google_logging_metric.janitor_deleting_sweeps.name}[1d])"
      duration = "0s"
    }
  }

  notification_channels = var.alert_notification_channels

  depends_on = [time_sleep.janitor_metrics_propagated]
}
