# The workflow policy the Trigger enforces at render time (KFCI_WORKFLOW_POLICY): which Kubernetes
# account a run's workflows get, which repositories are trusted, what each repository may use beyond
# the safe default, and the longest deadline. A pull request cannot change any of it: it lives here.
locals {
  workflow_policy = {
    serviceAccount        = local.workflow_kubernetes_accounts.restricted
    trustedServiceAccount = local.workflow_kubernetes_accounts.trusted
    trustedRepositories   = var.trusted_repositories
    maxDeadlineSeconds    = var.max_workflow_deadline_seconds
    repositories          = { for repository, allow in var.repository_allowances : repository => { allow = allow } }
  }
}
