# The tick carries no dryRun: whether the Janitor deletes is var.janitor_dry_run in its configuration, and a tick
# can only make a sweep drier, never switch deletion on.
resource "google_cloud_scheduler_job" "janitor_tick" {
  name      = "kfci-janitor-tick"
  project   = var.project_id
  region    = var.region
  schedule  = var.janitor_schedule
  time_zone = var.scheduler_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.janitor_ticks.id
    data       = base64encode(jsonencode({}))
  }

  depends_on = [google_project_service.enabled]
}

# The Watcher's safety net: Kubernetes events can be lost or rolled up (Argo's own docs warn about
# automating on them), so every tick it also looks at runs that should have finished by now.
resource "google_cloud_scheduler_job" "watcher_tick" {
  name      = "kfci-watcher-tick"
  project   = var.project_id
  region    = var.region
  schedule  = var.watcher_schedule
  time_zone = var.scheduler_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.watcher_ticks.id
    data       = base64encode(jsonencode({ reconcile = true }))
  }

  depends_on = [google_project_service.enabled]
}
