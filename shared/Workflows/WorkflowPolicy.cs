using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kfci.Prow;

namespace Kfci.Workflows;

/// <summary>What a repository's workflows may do beyond the restricted default, granted per repository by the operator.</summary>
[Flags]
public enum WorkflowPrivileges
{
    None = 0,

    /// <summary><c>hostPath</c> volumes.</summary>
    HostPath = 1,

    /// <summary><c>privileged</c>, <c>allowPrivilegeEscalation</c>, added capabilities, unconfined seccomp, unmasked /proc.</summary>
    Privileged = 2,

    /// <summary><c>hostNetwork</c>, <c>hostPID</c>, <c>hostIPC</c>.</summary>
    HostNamespaces = 4,

    /// <summary><c>podSpecPatch</c>, which can set anything in the pod.</summary>
    PodSpecPatch = 8,

    /// <summary><c>resource</c> templates, which create any object with the workflow's service account.</summary>
    ResourceTemplates = 16,

    /// <summary><c>templateRef</c> and <c>workflowTemplateRef</c>: templates that are not in the reviewed file.</summary>
    ClusterTemplates = 32,
}

/// <summary>
/// The operator's rules for the workflows a pull request writes, from <c>KFCI_WORKFLOW_POLICY</c> (deployment
/// configuration, never the repository): which Kubernetes service account workflows run as, which repositories'
/// postsubmit and periodic jobs get the trusted one, the longest deadline, and per-repository privileges.
/// Absent, everything runs as the namespace's <c>default</c> account with nothing allowed.
/// </summary>
public sealed partial record WorkflowPolicy
{
    public const string EnvironmentVariable = "KFCI_WORKFLOW_POLICY";

    public const string DefaultServiceAccount = "default";

    public const long DefaultMaxDeadlineSeconds = 4 * 60 * 60;

    private const int MaxJsonCharacters = 64 * 1024;

    private static readonly Dictionary<string, WorkflowPrivileges> s_privilegeNames = new(StringComparer.Ordinal)
    {
        ["hostPath"] = WorkflowPrivileges.HostPath,
        ["privileged"] = WorkflowPrivileges.Privileged,
        ["hostNamespaces"] = WorkflowPrivileges.HostNamespaces,
        ["podSpecPatch"] = WorkflowPrivileges.PodSpecPatch,
        ["resourceTemplates"] = WorkflowPrivileges.ResourceTemplates,
        ["clusterTemplates"] = WorkflowPrivileges.ClusterTemplates,
    };

    /// <summary>The safe default: the restricted account for every workflow, nothing allowed, four hours at most.</summary>
    public static WorkflowPolicy Default { get; } = new();

    /// <summary>The account pull-request workflows (and every untrusted job) run as.</summary>
    public string ServiceAccount { get; init; } = DefaultServiceAccount;

    /// <summary>The account for postsubmit and periodic jobs of <see cref="TrustedRepositories"/>; null: none is trusted.</summary>
    public string? TrustedServiceAccount { get; init; }

    /// <summary><c>owner/repo</c> names whose merged code may run as <see cref="TrustedServiceAccount"/>.</summary>
    public IReadOnlySet<string> TrustedRepositories { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The cap on <c>spec.activeDeadlineSeconds</c>, whatever the workflow asks for.</summary>
    public long MaxDeadlineSeconds { get; init; } = DefaultMaxDeadlineSeconds;

    /// <summary>Privileges granted per <c>owner/repo</c>.</summary>
    public IReadOnlyDictionary<string, WorkflowPrivileges> Repositories { get; init; } = new Dictionary<string, WorkflowPrivileges>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The policy in <c>KFCI_WORKFLOW_POLICY</c>, or <see cref="Default"/> when it is unset.</summary>
    /// <exception cref="InvalidOperationException">The variable is set but not a valid policy: the function must not start open.</exception>
    public static WorkflowPolicy FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        return getEnv(EnvironmentVariable) is { } json && !string.IsNullOrWhiteSpace(json) ? Parse(json) : Default;
    }

    /// <summary>Parses the policy's JSON (schema in <c>docs/security.md</c>); unknown fields and privilege names are errors.</summary>
    /// <exception cref="InvalidOperationException">Not valid JSON, or a field of the wrong type or value.</exception>
    public static WorkflowPolicy Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxJsonCharacters)
        {
            throw Invalid($"{json.Length} characters is more than {MaxJsonCharacters}");
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            throw Invalid($"not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The account a job's workflows run as: the trusted one only for merged code of a trusted repository.</summary>
    public string ServiceAccountFor(ProwJobSpec job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return TrustedServiceAccount is { } trusted && job.Type is JobType.Postsubmit or JobType.Periodic && RepositoryOf(job) is { } repository && TrustedRepositories.Contains(repository)
            ? trusted
            : ServiceAccount;
    }

    /// <summary>The privileges granted to the job's repository (none for a job without one).</summary>
    public WorkflowPrivileges PrivilegesFor(ProwJobSpec job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return RepositoryOf(job) is { } repository && Repositories.TryGetValue(repository, out var granted) ? granted : WorkflowPrivileges.None;
    }

    /// <summary>The policy's name for a privilege, as the JSON and messages spell it.</summary>
    public static string NameOf(WorkflowPrivileges privilege) => s_privilegeNames.First(p => p.Value == privilege).Key;

    private static string? RepositoryOf(ProwJobSpec job) => job.PrimaryRefs is { } refs ? $"{refs.Org}/{refs.Repo}" : null;

    private static WorkflowPolicy FromJson(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("must be a JSON object");
        }

        var policy = Default;
        foreach (var field in root.EnumerateObject())
        {
            policy = field.Name switch
            {
                "serviceAccount" => policy with { ServiceAccount = AccountName(field) },
                "trustedServiceAccount" => policy with { TrustedServiceAccount = field.Value.ValueKind == JsonValueKind.Null ? null : AccountName(field) },
                "trustedRepositories" => policy with { TrustedRepositories = Strings(field).Select(r => Repository(r, field.Name)).ToHashSet(StringComparer.OrdinalIgnoreCase) },
                "maxDeadlineSeconds" => policy with { MaxDeadlineSeconds = Deadline(field) },
                "repositories" => policy with { Repositories = RepositoryGrants(field.Value) },
                _ => throw Invalid($"unknown field '{field.Name}'"),
            };
        }

        return policy;
    }

    private static Dictionary<string, WorkflowPrivileges> RepositoryGrants(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("repositories must be an object of \"owner/repo\": {\"allow\": [...]}");
        }

        var grants = new Dictionary<string, WorkflowPrivileges>(StringComparer.OrdinalIgnoreCase);
        foreach (var repository in value.EnumerateObject())
        {
            var where = $"repositories['{repository.Name}']";
            if (repository.Value.ValueKind != JsonValueKind.Object)
            {
                throw Invalid($"{where} must be an object with an allow list");
            }

            var granted = WorkflowPrivileges.None;
            foreach (var field in repository.Value.EnumerateObject())
            {
                if (field.Name != "allow")
                {
                    throw Invalid($"{where}: unknown field '{field.Name}'");
                }

                foreach (var name in Strings(field))
                {
                    granted |= s_privilegeNames.TryGetValue(name, out var privilege)
                        ? privilege
                        : throw Invalid($"{where}.allow: unknown privilege '{name}' (known: {string.Join(", ", s_privilegeNames.Keys)})");
                }
            }

            grants[Repository(repository.Name, "repositories")] = granted;
        }

        return grants;
    }

    private static List<string> Strings(JsonProperty field) =>
        field.Value.ValueKind == JsonValueKind.Array && field.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
            ? field.Value.EnumerateArray().Select(e => e.GetString()!).ToList()
            : throw Invalid($"{field.Name} must be a list of strings");

    private static string AccountName(JsonProperty field) =>
        field.Value.ValueKind == JsonValueKind.String && KubernetesName().IsMatch(field.Value.GetString()!)
            ? field.Value.GetString()!
            : throw Invalid($"{field.Name} must be a Kubernetes service account name, not {field.Value.GetRawText()}");

    private static string Repository(string name, string field) =>
        RepositoryPattern().IsMatch(name) ? name : throw Invalid($"{field}: '{name}' is not owner/repo");

    private static long Deadline(JsonProperty field) =>
        field.Value.ValueKind == JsonValueKind.Number && field.Value.TryGetInt64(out var seconds) && seconds > 0
            ? seconds
            : throw Invalid($"maxDeadlineSeconds must be a positive whole number, not {field.Value.GetRawText()}");

    private static InvalidOperationException Invalid(string message, Exception? inner = null) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{EnvironmentVariable}: {message}"), inner);

    // A DNS-1123 subdomain, as Kubernetes requires of service account names.
    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\z")]
    private static partial Regex KubernetesName();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}/[A-Za-z0-9][A-Za-z0-9._-]{0,99}\z")]
    private static partial Regex RepositoryPattern();
}
