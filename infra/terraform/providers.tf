provider "google" {
  project = var.project_id
  region  = var.region
  zone    = var.zone

  default_labels = var.labels
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
  zone    = var.zone

  default_labels = var.labels
}

# No Kubernetes or Helm provider here: what runs inside the test cluster is the second root module,
# cluster/, which reads the cluster through data sources. A provider configured from a cluster created
# in the same state breaks when that cluster is replaced; this split makes replacing it a supported
# operation (README.md, "Replacing the cluster").
