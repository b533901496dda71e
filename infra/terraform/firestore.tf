resource "google_firestore_database" "kfci" {
  name        = var.firestore_database
  project     = var.project_id
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  delete_protection_state = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy         = "DELETE"

  depends_on = [google_project_service.enabled]
}

# Composite indexes for kfci's queries (single-field indexes are automatic):
# - runs by state, oldest update first: the Watcher's reconcile tick finds submitted runs that have
#   not moved for too long (state == "submitted" order by updatedAt).
# - runs in one state, newest first: RunQuery by state (the Watcher's tick pages through submitted and
#   completed runs: state == X order by createdAt desc, __name__ desc).
# - runs of one job, newest first: `kfci runs --job NAME` and latest-build bookkeeping
#   (jobName == X order by createdAt desc).
# - real (not dry-run) sweeps, newest first: the janitor alert and `kfci sweeps`
#   (dryRun == false order by startedAt desc).
# Workflow outcomes of many runs at once: each finished workflow is its own document,
# runs/{runId}/workflows/{name}, so a run's workflows finishing together never write one document.
# Listing runs reads the outcomes of the runs still waiting with one collection-group query per 30
# runs (runId in [...]); collection-group scope is not automatic for single fields.
resource "google_firestore_field" "workflow_outcomes_by_run" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "workflows"
  field      = "runId"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

resource "google_firestore_index" "runs_by_state" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "updatedAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "runs_by_state_created" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "runs_by_job" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "jobName"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "sweeps_by_start" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "sweeps"

  fields {
    field_path = "dryRun"
    order      = "ASCENDING"
  }

  fields {
    field_path = "startedAt"
    order      = "DESCENDING"
  }
}

# Test summaries (runs/{runId}/tests/{workflow}-{part}, written by the Uploader, read by the dashboard):
# - a job's grid: collection group tests, jobName == X and createdAt >= oldest build shown, newest first;
# - flakiness over a window of every job: collection group tests, createdAt >= start, newest first
#   (a single field, but collection-group scope is not automatic).
resource "google_firestore_index" "test_summaries_by_job" {
  project     = var.project_id
  database    = google_firestore_database.kfci.name
  collection  = "tests"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "jobName"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_field" "test_summaries_by_time" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "tests"
  field      = "createdAt"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

# Compact test columns (runs/{runId}/columns/{workflow}, written beside the summaries; the grid and the
# flakiness page read these): the same two queries on collection group columns.
resource "google_firestore_index" "test_columns_by_job" {
  project     = var.project_id
  database    = google_firestore_database.kfci.name
  collection  = "columns"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "jobName"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_field" "test_columns_by_time" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "columns"
  field      = "createdAt"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

# Large values no query filters or orders by: single-field index exemptions, so writing them costs no index
# entries (Firestore's advice for large strings and arrays; a list of 900 names would otherwise be 900 entries).
resource "google_firestore_field" "unindexed" {
  for_each = {
    test_names    = { collection = "testNames", field = "names" }
    column_result = { collection = "columns", field = "results" }
    column_fails  = { collection = "columns", field = "failures" }
    summary_cases = { collection = "tests", field = "tests" }
  }

  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = each.value.collection
  field      = each.value.field

  index_config {}
}

# The dashboard's run filters combined: a repository's runs, and a job's or repository's runs in one state.
resource "google_firestore_index" "runs_by_repo" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "repo"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "runs_by_job_state" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "jobName"
    order      = "ASCENDING"
  }

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "runs_by_repo_state" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "repo"
    order      = "ASCENDING"
  }

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

# The same with both job and repository chosen (the runs page offers the three filters together).
resource "google_firestore_index" "runs_by_job_repo" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "jobName"
    order      = "ASCENDING"
  }

  fields {
    field_path = "repo"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "runs_by_job_repo_state" {
  project    = var.project_id
  database   = google_firestore_database.kfci.name
  collection = "runs"

  fields {
    field_path = "jobName"
    order      = "ASCENDING"
  }

  fields {
    field_path = "repo"
    order      = "ASCENDING"
  }

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}
