# kfci's own periodics: jobs that run on a schedule without a Prow pod. Each is a Cloud Scheduler job that
# publishes the event Prow's sub reads (a PeriodicProwJobEvent) to prow-events, naming the job and the branches it
# tests; the Trigger pins each branch to its head when the run starts. They are kfci-owned builds: results under
# logs/<job>/<build>/ with latest-build.txt, where TestGrid reads them.

variable "periodics" {
  type = map(object({
    schedule  = string
    time_zone = optional(string)
    repositories = list(object({
      org    = string
      repo   = string
      branch = string
    }))
    envs = optional(map(string), {})
  }))
  description = "kfci's own periodic jobs by Prow job name: a cron schedule (unix-cron, as Cloud Scheduler reads it), the repositories and branches to test (the first holds prow_config.yaml), and extra environment for the workflows."
  default     = {}

  validation {
    condition     = alltrue([for name, p in var.periodics : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$", name)) && length(p.repositories) >= 1 && length(p.repositories) <= 16])
    error_message = "Each periodic needs a Prow job name ([A-Za-z0-9._-], at most 200) and 1 to 16 repositories."
  }

  # The same rules the Trigger applies to the event (RepositoryName, GitRefName, ProwEvent's envs), so a schedule
  # the Trigger would refuse at 3 a.m. is refused at plan time instead.
  validation {
    condition = alltrue(flatten([for p in var.periodics : [for r in p.repositories : [
      can(regex("^[A-Za-z0-9._-]{1,100}$", r.org)) && !contains([".", ".."], r.org),
      can(regex("^[A-Za-z0-9._-]{1,100}$", r.repo)) && !contains([".", ".."], r.repo),
    ]]]))
    error_message = "Each repository's org and repo are GitHub names: letters, digits, '.', '_' and '-', at most 100, not '.' or '..'."
  }

  validation {
    condition = alltrue(flatten([for p in var.periodics : [for r in p.repositories :
      can(regex("^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}$", r.branch)) && length(regexall("\\.\\.|//|/\\.|/$|\\.$|\\.lock$", r.branch)) == 0
    ]]))
    error_message = "Each branch is a git branch name kfci accepts: starts with a letter, digit or '_', then letters, digits and ._/+- (at most 255), without '..', '//', '/.', and not ending in '/', '.' or '.lock'."
  }

  validation {
    condition     = alltrue([for p in var.periodics : length(p.envs) <= 64 && alltrue([for k in keys(p.envs) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])])
    error_message = "Each periodic has at most 64 envs, each named like an environment variable ([A-Za-z_][A-Za-z0-9_]*)."
  }
}

variable "prow_job_config" {
  type        = string
  description = "Where the Trigger reads Prow's job configuration for periodic events that name only a job (KFCI_PROW_JOBS): gs://BUCKET/OBJECT (grant the Trigger's account read access) or ORG/REPO@BRANCH:PATH read with the GitHub token. Empty: periodic events must carry their refs."
  default     = ""
}

locals {
  # The data of each schedule's message: Prow's ProwJobEvent ({name, refs, envs}); further repositories go in
  # extra_refs, which kfci reads and Prow's sub ignores.
  periodic_events = {
    for name, p in var.periodics : name => merge(
      {
        name = name
        refs = { org = p.repositories[0].org, repo = p.repositories[0].repo, base_ref = p.repositories[0].branch }
      },
      length(p.repositories) > 1 ? {
        extra_refs = [for r in slice(p.repositories, 1, length(p.repositories)) : { org = r.org, repo = r.repo, base_ref = r.branch }]
      } : {},
      length(p.envs) > 0 ? { envs = p.envs } : {},
    )
  }

  # Cloud Scheduler job ids allow letters, digits, '-' and '_' only. A name with a '.' gets a short hash of itself,
  # so "a.b" does not take the id of "a-b".
  periodic_scheduler_ids = {
    for name, p in var.periodics : name => (
      strcontains(name, ".") ? "kfci-periodic-${replace(name, ".", "-")}-${substr(sha256(name), 0, 8)}" : "kfci-periodic-${name}"
    )
  }
}

resource "google_cloud_scheduler_job" "periodic" {
  for_each = var.periodics

  name        = local.periodic_scheduler_ids[each.key]
  description = "kfci periodic ${each.key}"
  project     = var.project_id
  region      = var.region
  schedule    = each.value.schedule
  time_zone   = coalesce(each.value.time_zone, var.scheduler_time_zone)

  pubsub_target {
    topic_name = google_pubsub_topic.prow_events.id
    data       = base64encode(jsonencode(local.periodic_events[each.key]))
    attributes = {
      "prow.k8s.io/pubsub.EventType" = "prow.k8s.io/pubsub.PeriodicProwJobEvent"
    }
  }

  depends_on = [google_project_service.enabled]
}
