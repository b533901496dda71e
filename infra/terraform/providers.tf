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

# The Kubernetes and Helm providers talk to the test cluster this configuration creates, with the
# caller's own Google credentials: no kubeconfig file and no downloaded key.
data "google_client_config" "current" {}

provider "kubernetes" {
  host                   = "https://${google_container_cluster.testing.endpoint}"
  token                  = data.google_client_config.current.access_token
  cluster_ca_certificate = base64decode(google_container_cluster.testing.master_auth[0].cluster_ca_certificate)
}

provider "helm" {
  kubernetes {
    host                   = "https://${google_container_cluster.testing.endpoint}"
    token                  = data.google_client_config.current.access_token
    cluster_ca_certificate = base64decode(google_container_cluster.testing.master_auth[0].cluster_ca_certificate)
  }
}
