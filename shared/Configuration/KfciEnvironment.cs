namespace Kfci.Configuration;

/// <summary>
/// The environment variables kfci's functions and command read: the one list that Terraform
/// (infra/terraform) must set and the infra tests check against. kfci's own settings start with
/// <c>KFCI_</c>; the rest are the Google conventions the official clients also honour.
/// </summary>
public static class KfciEnvironment
{
    /// <summary>GCP project that holds the chain's Pub/Sub topics and Firestore database.</summary>
    public const string Project = "KFCI_PROJECT";

    /// <summary>Firestore database id; <c>(default)</c> when unset.</summary>
    public const string FirestoreDatabase = "KFCI_FIRESTORE_DATABASE";

    /// <summary>Results bucket (GCS) that Spyglass/TestGrid read, e.g. <c>kubernetes-jenkins</c>.</summary>
    public const string ResultsBucket = "KFCI_RESULTS_BUCKET";

    /// <summary>A directory to use as the results bucket instead of GCS (the local stack); wins over <see cref="ResultsBucket"/>.</summary>
    public const string ResultsDirectory = "KFCI_RESULTS_DIR";

    /// <summary>
    /// Local stack only: a directory holding <c>&lt;org&gt;/&lt;repo&gt;</c> git repositories (or links to them). When set,
    /// the Trigger reads sources with real <c>git</c> from there instead of the GitHub API.
    /// </summary>
    public const string GitRoot = "KFCI_GIT_ROOT";

    /// <summary>GitHub REST API base (default <c>https://api.github.com/</c>); tests point it at a fake.</summary>
    public const string GitHubApiUrl = "KFCI_GITHUB_API_URL";

    /// <summary>
    /// Prow's job configuration, which names the repositories of a periodic that an event names only by its name: an
    /// absolute file path (the local stack), <c>gs://BUCKET/OBJECT</c> or <c>ORG/REPO@BRANCH:PATH</c>. Unset: periodic
    /// events must carry their refs.
    /// </summary>
    public const string ProwJobs = "KFCI_PROW_JOBS";

    /// <summary>
    /// Local stack only: the host directory that backs the shared NFS claim (<c>/mnt/test-data-volume</c> in the
    /// workflows). The Uploader collects each workflow's artifacts from <c>&lt;root&gt;/&lt;workflow&gt;/output/artifacts</c>.
    /// </summary>
    public const string NfsRoot = "KFCI_NFS_ROOT";

    /// <summary>Minutes a run may take before the Watcher stops its workflows (default 180).</summary>
    public const string RunDeadlineMinutes = "KFCI_RUN_DEADLINE_MINUTES";

    /// <summary>Base URL of the Argo UI, for workflow links (e.g. <c>https://argo.example.com</c>); no links when unset.</summary>
    public const string ArgoUiUrl = "KFCI_ARGO_UI_URL";

    /// <summary>Prow's GCS path strategy for results: <c>explicit</c> (default), <c>legacy</c> or <c>single</c>.</summary>
    public const string PathStrategy = "KFCI_PATH_STRATEGY";

    /// <summary>Default org and repo for the <c>legacy</c>/<c>single</c> path strategies (Prow's default_org/default_repo).</summary>
    public const string DefaultOrg = "KFCI_DEFAULT_ORG";

    public const string DefaultRepo = "KFCI_DEFAULT_REPO";

    /// <summary>Janitor rules and scope (YAML: projects, testCluster, zones/regions); required, the Janitor refuses to start without it.</summary>
    public const string JanitorConfig = "KFCI_JANITOR_CONFIG";

    /// <summary>Local and tests only: one plain-HTTP server (the GCP fake) that serves Compute, Container, Deployment Manager and IAM for the Janitor.</summary>
    public const string GcpApiEndpoint = "KFCI_GCP_API_ENDPOINT";

    /// <summary>
    /// <c>true</c>: let a Janitor that runs against emulators (a local stack) reach real Google Cloud. Without it such a
    /// Janitor refuses to start unless <see cref="GcpApiEndpoint"/> points it at a fake.
    /// </summary>
    public const string JanitorRealGcp = "KFCI_JANITOR_REAL_GCP";

    /// <summary>Trigger: the workflow policy (JSON: serviceAccount, trustedServiceAccount, trustedRepositories, maxDeadlineSeconds, repositories); a restricted default when unset.</summary>
    public const string WorkflowPolicy = "KFCI_WORKFLOW_POLICY";

    /// <summary>
    /// The image of workflow steps (the <c>step_image</c> parameter): in the cloud the test-worker image Cloud Build puts in
    /// the project's Artifact Registry (infra/images/test-worker); <c>kfci/test-worker:latest</c>, a local build of it, when unset.
    /// </summary>
    public const string StepImage = "KFCI_STEP_IMAGE";

    /// <summary>Namespace of the test workflows in the test cluster; <c>kubeflow-test-infra</c> when unset.</summary>
    public const string WorkflowNamespace = "KFCI_WORKFLOW_NAMESPACE";

    /// <summary>Audience expected in Pub/Sub push OIDC tokens; push authentication is off when unset.</summary>
    public const string PushAudience = "KFCI_PUSH_AUDIENCE";

    /// <summary>HTTPS address of the test cluster's Kubernetes API server (Cloud deployments; locally a kubeconfig is used).</summary>
    public const string ClusterEndpoint = "KFCI_CLUSTER_ENDPOINT";

    /// <summary>The local engine's per-stack token, sent as <c>Authorization: Bearer</c> to a loopback <see cref="ClusterEndpoint"/>.</summary>
    public const string ClusterToken = "KFCI_CLUSTER_TOKEN";

    /// <summary>
    /// Base64-encoded PEM certificate of the test cluster's certificate authority, paired with <see cref="ClusterEndpoint"/>:
    /// required for an https endpoint, and then the only certificate authority trusted (as kubectl trusts its kubeconfig's).
    /// </summary>
    public const string ClusterCaCertificate = "KFCI_CLUSTER_CA_CERTIFICATE";

    /// <summary>GitHub token the Trigger reads repositories with (Secret Manager mounts it in the cloud); never logged.</summary>
    public const string GitHubToken = "KFCI_GITHUB_TOKEN";

    /// <summary>Service account whose push OIDC tokens are accepted (its email); any Google-signed token for the audience when unset.</summary>
    public const string PushServiceAccount = "KFCI_PUSH_SERVICE_ACCOUNT";

    /// <summary>
    /// Address the function host binds: <c>0.0.0.0</c> on Cloud Run (where <c>K_SERVICE</c> is set), <c>127.0.0.1</c>
    /// elsewhere, so a local or test run never listens beyond loopback unless asked to.
    /// </summary>
    public const string BindAddress = "KFCI_BIND_ADDRESS";

    /// <summary><c>json</c> (Cloud Logging lines) or <c>text</c> (one readable line); json unless stdout is a terminal.</summary>
    public const string LogFormat = "KFCI_LOG_FORMAT";

    /// <summary>Largest accepted request body in bytes (default 10 MiB, Pub/Sub's own message limit).</summary>
    public const string MaxRequestBytes = "KFCI_MAX_REQUEST_BYTES";

    /// <summary>Topic the Trigger publishes <c>run.submitted</c> to.</summary>
    public const string RunSubmittedTopic = "KFCI_TOPIC_RUN_SUBMITTED";

    /// <summary>Topic the Watcher publishes <c>run.completed</c> to.</summary>
    public const string RunCompletedTopic = "KFCI_TOPIC_RUN_COMPLETED";

    /// <summary>Topic the Uploader publishes <c>run.finished</c> to.</summary>
    public const string RunFinishedTopic = "KFCI_TOPIC_RUN_FINISHED";

    /// <summary>Name of the function a host serves when its project holds more than one (Functions Framework contract).</summary>
    public const string FunctionTarget = "FUNCTION_TARGET";

    /// <summary>Port the function host listens on (Functions Framework contract; 8080 when unset).</summary>
    public const string Port = "PORT";

    /// <summary>Set by Cloud Run (and so Cloud Functions gen2) to the service name; its presence means "running in the cloud".</summary>
    public const string CloudRunService = "K_SERVICE";

    /// <summary>Project id the Google runtimes and client libraries use; the host's fallback for <see cref="Project"/> in trace ids.</summary>
    public const string GoogleCloudProject = "GOOGLE_CLOUD_PROJECT";

    public const string PubSubEmulatorHost = "PUBSUB_EMULATOR_HOST";

    public const string FirestoreEmulatorHost = "FIRESTORE_EMULATOR_HOST";

    public const string StorageEmulatorHost = "STORAGE_EMULATOR_HOST";
}
