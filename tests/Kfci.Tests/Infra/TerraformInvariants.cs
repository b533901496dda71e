using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kfci.Tests.Infra;

/// <summary>A function as <c>local.functions</c> in functions.tf declares it.</summary>
internal sealed record FunctionEntry(string Key, string Directory, string? Account, JsonElement Body);

/// <summary>
/// The invariants infra/terraform must keep, as plain checks over the parsed configuration: each
/// returns the violations it found (empty when the configuration is right), in words a reviewer
/// can act on.
/// </summary>
internal static partial class TerraformInvariants
{
    private const string FunctionService = "google_cloud_run_v2_service";
    private const string Topic = "google_pubsub_topic";
    private const string DeadLetterTopicName = "kfci-dead-letter";
    private const string JanitorKey = "janitor";

    /// <summary>What each function consumes and publishes (ARCHITECTURE.md, "The chain").</summary>
    private static readonly Dictionary<string, (string[] Consumes, string[] Publishes)> s_chain = new(StringComparer.Ordinal)
    {
        ["trigger"] = (["prow-events"], ["run-submitted", "run-completed"]),
        ["watcher"] = (["argo-events", "watcher-ticks"], ["run-completed"]),
        ["uploader"] = (["run-completed", "run-submitted"], ["run-finished"]),
        ["janitor"] = (["janitor-ticks"], []),
    };

    /// <summary>The roles the seed granted its test-workflow account, on the project.</summary>
    private static readonly string[] s_seedWorkflowRoles =
    [
        "roles/cloudbuild.builds.editor",
        "roles/compute.instanceAdmin.v1",
        "roles/container.admin",
        "roles/logging.viewer",
        "roles/storage.admin",
        "roles/viewer",
    ];

    /// <summary>Roles that can delete Compute Engine, GKE or Deployment Manager resources (or everything).</summary>
    private static readonly HashSet<string> s_deletingRoles = new(StringComparer.Ordinal)
    {
        "roles/owner",
        "roles/editor",
        "roles/compute.admin",
        "roles/compute.instanceAdmin",
        "roles/compute.instanceAdmin.v1",
        "roles/compute.networkAdmin",
        "roles/compute.loadBalancerAdmin",
        "roles/compute.securityAdmin",
        "roles/compute.storageAdmin",
        "roles/container.admin",
        "roles/container.clusterAdmin",
        "roles/deploymentmanager.editor",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountDeleter",
    };

    public static IReadOnlyList<FunctionEntry> Functions(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        if (!tree.Locals.TryGetValue("functions", out var functions) || functions.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        return functions.EnumerateObject()
            .Select(f => new FunctionEntry(
                f.Name,
                Hcl.Attribute(f.Value, "directory") ?? "",
                Hcl.References(Hcl.Attribute(f.Value, "service_account"), "google_service_account").FirstOrDefault(),
                f.Value))
            .ToList();
    }

    /// <summary>Every directory under functions/ with a project is deployed, by exactly one entry, as a service.</summary>
    public static IReadOnlyList<string> FunctionsAreDeployed(TerraformTree tree, string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var functions = Functions(tree);
        var directories = Directory.GetDirectories(Path.Combine(repositoryRoot, "functions"))
            .Where(d => Directory.EnumerateFiles(d, "*.csproj").Any())
            .Select(d => "functions/" + Path.GetFileName(d))
            .Order(StringComparer.Ordinal);
        foreach (var directory in directories)
        {
            var count = functions.Count(f => f.Directory == directory);
            if (count != 1)
            {
                violations.Add($"{directory} is deployed by {count} entries of local.functions (want exactly 1)");
            }
        }

        foreach (var function in functions.Where(f => !Directory.Exists(Path.Combine(repositoryRoot, f.Directory))))
        {
            violations.Add($"local.functions.{function.Key} deploys '{function.Directory}', which is not a directory of the repository");
        }

        if (!tree.ResourcesOfType(FunctionService).Any(r => Hcl.Attribute(r.Body, "for_each") == "${local.functions}"))
        {
            violations.Add($"no {FunctionService} has for_each = local.functions, so the functions are not deployed");
        }

        foreach (var function in functions.Where(f => f.Account is null))
        {
            violations.Add($"local.functions.{function.Key} has no service_account of its own (google_service_account.<name>.email)");
        }

        return violations;
    }

    /// <summary>Every topic a function consumes or publishes exists, and the wiring is the chain's.</summary>
    public static IReadOnlyList<string> FunctionTopicsExist(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var topics = tree.ResourcesOfType(Topic).ToDictionary(t => t.Name, t => Hcl.Attribute(t.Body, "name") ?? "", StringComparer.Ordinal);
        foreach (var function in Functions(tree))
        {
            var consumes = new SortedSet<string>(StringComparer.Ordinal);
            if (function.Body.TryGetProperty("consumes", out var consumed))
            {
                foreach (var entry in consumed.EnumerateObject())
                {
                    foreach (var reference in Hcl.References(entry.Value.GetString(), Topic))
                    {
                        if (!topics.TryGetValue(reference, out var name))
                        {
                            violations.Add($"{function.Key} consumes {Topic}.{reference}, which is not declared");
                        }
                        else if (name != entry.Name)
                        {
                            violations.Add($"{function.Key} consumes '{entry.Name}' but the topic it refers to is named '{name}'");
                        }
                    }

                    consumes.Add(entry.Name);
                }
            }

            var publishes = new SortedSet<string>(StringComparer.Ordinal);
            var published = new[] { "publishes", "env" }
                .Where(a => function.Body.TryGetProperty(a, out _))
                .SelectMany(a => Hcl.Strings(function.Body.GetProperty(a)))
                .SelectMany(s => Hcl.References(s.Value, Topic));
            foreach (var reference in published)
            {
                if (topics.TryGetValue(reference, out var name))
                {
                    publishes.Add(name);
                }
                else
                {
                    violations.Add($"{function.Key} publishes to {Topic}.{reference}, which is not declared");
                }
            }

            violations.AddRange(CompareWithChain(function.Key, consumes, publishes));
        }

        return violations;
    }

    /// <summary>Every subscription dead-letters after var.max_delivery_attempts, with the grants Pub/Sub needs for it.</summary>
    public static IReadOnlyList<string> SubscriptionsDeadLetter(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var deadLetter = tree.ResourcesOfType(Topic).FirstOrDefault(t => Hcl.Attribute(t.Body, "name") == DeadLetterTopicName);
        if (deadLetter is null)
        {
            return [$"no {Topic} is named {DeadLetterTopicName}"];
        }

        var grants = IamGrants.All(tree);
        var agent = "google_project_service_identity.pubsub";
        if (!grants.Any(g => g.Resource.Type == "google_pubsub_topic_iam_member" && g.Role == "roles/pubsub.publisher"
            && Hcl.References(Hcl.Attribute(g.Resource.Body, "topic"), Topic).Contains(deadLetter.Name) && g.Member.Contains(agent, StringComparison.Ordinal)))
        {
            violations.Add($"the Pub/Sub service agent ({agent}) may not publish to {DeadLetterTopicName}, so nothing can be dead-lettered");
        }

        foreach (var subscription in tree.ResourcesOfType("google_pubsub_subscription"))
        {
            if (Hcl.References(Hcl.Attribute(subscription.Body, "topic"), Topic).Contains(deadLetter.Name))
            {
                continue;
            }

            var policy = Hcl.Blocks(subscription.Body, "dead_letter_policy").FirstOrDefault();
            if (policy.ValueKind != JsonValueKind.Object)
            {
                violations.Add($"{subscription.Address} has no dead_letter_policy");
                continue;
            }

            if (!Hcl.References(Hcl.Attribute(policy, "dead_letter_topic"), Topic).Contains(deadLetter.Name))
            {
                violations.Add($"{subscription.Address} dead-letters somewhere other than {Topic}.{deadLetter.Name}");
            }

            if (Hcl.Attribute(policy, "max_delivery_attempts") != "${var.max_delivery_attempts}")
            {
                violations.Add($"{subscription.Address} does not take max_delivery_attempts from var.max_delivery_attempts");
            }

            if (!Hcl.Blocks(subscription.Body, "retry_policy").Any())
            {
                violations.Add($"{subscription.Address} has no retry_policy");
            }

            if (!grants.Any(g => g.Resource.Type == "google_pubsub_subscription_iam_member" && g.Role == "roles/pubsub.subscriber"
                && g.Member.Contains(agent, StringComparison.Ordinal)
                && (Hcl.References(Hcl.Attribute(g.Resource.Body, "for_each"), "google_pubsub_subscription").Contains(subscription.Name)
                    || Hcl.References(Hcl.Attribute(g.Resource.Body, "subscription"), "google_pubsub_subscription").Contains(subscription.Name))))
            {
                violations.Add($"the Pub/Sub service agent is not a subscriber of {subscription.Address}, which dead-lettering requires");
            }
        }

        return violations;
    }

    /// <summary>
    /// Two workflow identities, told apart by the Kubernetes account their Workload Identity binding names: the trusted one
    /// (<c>local.workflow_kubernetes_accounts.trusted</c>) holds exactly the seed's roles and actAs on the Compute Engine
    /// default account; the restricted one, which pull-request workflows run as, holds no project role and acts as nobody.
    /// </summary>
    public static IReadOnlyList<string> WorkflowAccountHasSeedRoles(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var grants = IamGrants.All(tree);
        var trusted = WorkflowAccount(grants, "trusted");
        var restricted = WorkflowAccount(grants, "restricted");
        if (trusted is null || restricted is null)
        {
            return ["the trusted and the restricted workflow accounts are not both bound through Workload Identity (roles/iam.workloadIdentityUser for *.svc.id.goog[.../${local.workflow_kubernetes_accounts.trusted|restricted}])"];
        }

        if (trusted == restricted)
        {
            return [$"pull-request and trusted workflows share google_service_account.{trusted}"];
        }

        var violations = new List<string>();
        var held = IamGrants.HeldBy(grants, trusted, isFunctionAccount: false).ToList();
        var projectRoles = held.Where(g => g.Resource.Type == "google_project_iam_member").Select(g => g.Role).ToHashSet(StringComparer.Ordinal);
        violations.AddRange(s_seedWorkflowRoles.Where(r => !projectRoles.Contains(r)).Select(r => $"the trusted workflow account google_service_account.{trusted} lacks the seed's {r}"));
        violations.AddRange(projectRoles.Where(r => !s_seedWorkflowRoles.Contains(r)).Order(StringComparer.Ordinal)
            .Select(r => $"the trusted workflow account google_service_account.{trusted} holds {r}, which the seed did not grant"));

        // actAs only on the role-less test-VM account: on the Compute Engine default account (often an Editor) or any
        // account with roles it would be a path to those roles.
        var actAs = held.Where(g => g.Resource.Type == "google_service_account_iam_member").ToList();
        if (!actAs.Any(g => g.Role == "roles/iam.serviceAccountUser" && Hcl.Attribute(g.Resource.Body, "service_account_id") == "${google_service_account.test_vm.name}"))
        {
            violations.Add($"the trusted workflow account google_service_account.{trusted} is not roles/iam.serviceAccountUser on google_service_account.test_vm, the account test VMs run as");
        }

        violations.AddRange(actAs.Where(g => Hcl.Attribute(g.Resource.Body, "service_account_id") != "${google_service_account.test_vm.name}")
            .Select(g => $"the trusted workflow account google_service_account.{trusted} may act as {Hcl.Attribute(g.Resource.Body, "service_account_id")} through {g.Resource.Address}; only as the role-less test-VM account"));
        violations.AddRange(StorageAdminSparesKfciBuckets(tree, held, trusted));

        violations.AddRange(held.Where(g => g.Resource.Type is not ("google_project_iam_member" or "google_service_account_iam_member")
                || (g.Resource.Type == "google_service_account_iam_member" && g.Role != "roles/iam.serviceAccountUser"))
            .Select(g => $"the trusted workflow account google_service_account.{trusted} holds {g.Role} through {g.Resource.Address}, which the seed did not grant"));

        // A pull request's code runs as the restricted account: it may write and read Argo's artifacts, nothing more.
        violations.AddRange(IamGrants.HeldBy(grants, restricted, isFunctionAccount: false)
            .Where(g => !(g.Resource.Type == "google_storage_bucket_iam_member"
                && Hcl.References(Hcl.Attribute(g.Resource.Body, "bucket"), "google_storage_bucket").SetEquals(["argo_artifacts"])
                && g.Role is "roles/storage.objectCreator" or "roles/storage.objectViewer"))
            .Select(g => $"the pull-request workflow account google_service_account.{restricted} holds {g.Role} through {g.Resource.Address}; it may only write and read Argo's artifacts"));
        return violations;
    }

    /// <summary>The seed's project-wide storage.admin, conditioned so that it reaches none of kfci's own buckets.</summary>
    private static IEnumerable<string> StorageAdminSparesKfciBuckets(TerraformTree tree, List<IamGrant> held, string trusted)
    {
        var buckets = tree.Locals.TryGetValue("kfci_buckets", out var b) ? Hcl.Strings(b).Select(s => s.Value).ToHashSet(StringComparer.Ordinal) : [];
        foreach (var expected in new[] { "${var.results_bucket_name}", "${google_storage_bucket.argo_artifacts.name}", "${google_storage_bucket.build_source.name}" }.Where(e => !buckets.Contains(e)))
        {
            yield return $"local.kfci_buckets lacks {expected}";
        }

        foreach (var grant in held.Where(g => g.Resource.Type == "google_project_iam_member" && g.Role == "roles/storage.admin"))
        {
            var condition = Hcl.Blocks(grant.Resource.Body, "condition").Select(c => Hcl.Attribute(c, "expression") ?? "").FirstOrDefault() ?? "";
            if (!condition.Contains("local.kfci_buckets", StringComparison.Ordinal) || !condition.Contains("resource.name != ", StringComparison.Ordinal)
                || !condition.Contains("!resource.name.startsWith(", StringComparison.Ordinal))
            {
                yield return $"the trusted workflow account google_service_account.{trusted} holds roles/storage.admin through {grant.Resource.Address} without a condition excluding local.kfci_buckets: tests could rewrite published results";
            }
        }
    }

    private static string? WorkflowAccount(IEnumerable<IamGrant> grants, string kind) =>
        grants.Where(g => g.Role == "roles/iam.workloadIdentityUser"
                && g.Member.Contains(".svc.id.goog[", StringComparison.Ordinal)
                && g.Member.Contains($"local.workflow_kubernetes_accounts.{kind}}}]", StringComparison.Ordinal))
            .Select(g => Hcl.References(Hcl.Attribute(g.Resource.Body, "service_account_id"), "google_service_account").FirstOrDefault())
            .FirstOrDefault(a => a is not null);

    /// <summary>No function's account holds roles/owner or roles/editor.</summary>
    public static IReadOnlyList<string> FunctionAccountsAreNotOwnersOrEditors(TerraformTree tree) =>
        FunctionRoles(tree)
            .Where(h => h.Grant.Role is "roles/owner" or "roles/editor" or IamGrants.Unresolved)
            .Select(h => $"function {h.Function} (google_service_account.{h.Account}) holds {h.Grant.Role} through {h.Grant.Resource.Address}")
            .ToList();

    /// <summary>Among the function accounts, only the Janitor's can delete Compute Engine, GKE or Deployment Manager resources.</summary>
    public static IReadOnlyList<string> OnlyJanitorDeletes(TerraformTree tree) =>
        FunctionRoles(tree)
            .Where(h => h.Function != JanitorKey && (s_deletingRoles.Contains(h.Grant.Role) || DeletingRolePattern().IsMatch(h.Grant.Role) || h.Grant.Role == IamGrants.Unresolved))
            .Select(h => $"function {h.Function} (google_service_account.{h.Account}) holds {h.Grant.Role} through {h.Grant.Resource.Address}, which can delete cloud resources; only the janitor may")
            .ToList();

    /// <summary>Only the Pub/Sub push identity may invoke the function services.</summary>
    public static IReadOnlyList<string> OnlyPubSubInvokes(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        var pushAccounts = tree.ResourcesOfType("google_pubsub_subscription")
            .SelectMany(s => Hcl.Blocks(s.Body, "push_config"))
            .SelectMany(p => Hcl.Blocks(p, "oidc_token"))
            .SelectMany(o => Hcl.References(Hcl.Attribute(o, "service_account_email"), "google_service_account"))
            .ToHashSet(StringComparer.Ordinal);
        // The dashboard's service is IAP's to invoke (DashboardTerraformTests); these are the functions'.
        var invokerGrants = IamGrants.All(tree).Where(g => g.Resource.Type.StartsWith("google_cloud_run", StringComparison.Ordinal)
            && !Hcl.References(Hcl.Attribute(g.Resource.Body, "name"), FunctionService).Contains("dashboard")).ToList();
        foreach (var grant in invokerGrants)
        {
            var accounts = Hcl.References(grant.Member, "google_service_account");
            if (accounts.Count != 1 || !pushAccounts.Contains(accounts.First()))
            {
                violations.Add($"{grant.Resource.Address} lets {grant.Member} hold {grant.Role} on a function; only the Pub/Sub push identity may invoke");
            }
        }

        if (invokerGrants.Count == 0)
        {
            violations.Add("no IAM grant lets the Pub/Sub push identity invoke the functions");
        }

        return violations;
    }

    /// <summary>No literal project id: every project comes from var.project_id.</summary>
    public static IReadOnlyList<string> NoHardCodedProjectId(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        foreach (var file in tree.Files.EnumerateObject())
        {
            foreach (var section in file.Value.EnumerateObject().Where(s => s.Name != "variable"))
            {
                foreach (var (attribute, value) in Hcl.Strings(section.Value))
                {
                    if (attribute is "project" or "project_id" && value != "${var.project_id}")
                    {
                        violations.Add($"{file.Name}: {attribute} = \"{value}\" (use var.project_id)");
                    }
                    else if (LiteralProjectPattern().Match(value) is { Success: true } literal)
                    {
                        violations.Add($"{file.Name}: {attribute} contains the literal project id in '{literal.Value}' (use var.project_id)");
                    }
                }
            }
        }

        return violations;
    }

    /// <summary>Every variable has a description; required and numeric variables also validate their value.</summary>
    public static IReadOnlyList<string> VariablesAreDescribed(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var violations = new List<string>();
        foreach (var variable in tree.Variables)
        {
            if (string.IsNullOrWhiteSpace(Hcl.Attribute(variable.Body, "description")))
            {
                violations.Add($"{variable.Address} ({variable.File}) has no description");
            }

            var needsValidation = !variable.Body.TryGetProperty("default", out _) || Hcl.Attribute(variable.Body, "type") == "${number}";
            if (needsValidation && !Hcl.Blocks(variable.Body, "validation").Any())
            {
                violations.Add($"{variable.Address} ({variable.File}) is required or numeric but has no validation block");
            }
        }

        return violations;
    }

    /// <summary>The KFCI_ variables Terraform sets per function, from function_common_env, cluster_env and the entry.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> EnvironmentByFunction(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var common = tree.Locals.TryGetValue("function_common_env", out var c) ? Hcl.Keys(c).ToList() : [];
        var cluster = tree.Locals.TryGetValue("cluster_env", out var k) ? Hcl.Keys(k).ToList() : [];
        return Functions(tree).ToDictionary(
            f => f.Key,
            f => (IReadOnlySet<string>)common
                .Concat(Hcl.Attribute(f.Body, "uses_cluster") == "true" ? cluster : [])
                .Concat(f.Body.TryGetProperty("env", out var env) ? Hcl.Keys(env) : [])
                .Concat(f.Body.TryGetProperty("secret_env", out var secrets) ? Hcl.Keys(secrets) : [])
                .ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    /// <summary>
    /// The variables the code reads are the ones Terraform sets: what functions/X reads is set for X,
    /// what shared/ reads is set for some function, Terraform sets no KFCI_ name the code does not
    /// know, and the service passes the declared environment to its container.
    /// </summary>
    // Read by shared code but rightly absent from Terraform: emulator hosts are for local runs and tests,
    // Cloud Run sets K_SERVICE and GOOGLE_CLOUD_PROJECT itself, and the host's defaults for the others are
    // the cloud's values (the GitHub API URL defaults to api.github.com; results dir, git root, NFS root, the cluster token and the Janitor's emulator override are the local stack's: GKE takes Google tokens, the cloud has no emulators), and Cloud Run injects PORT (bind 0.0.0.0 under K_SERVICE, JSON logs when stdout is not a terminal, a push body limit sized from Pub/Sub's own limits).
    private static readonly HashSet<string> s_notSetInCloud = new(StringComparer.Ordinal)
    {
        "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "K_SERVICE", "GOOGLE_CLOUD_PROJECT",
        "KFCI_BIND_ADDRESS", "KFCI_LOG_FORMAT", "KFCI_MAX_REQUEST_BYTES", "KFCI_HOME", "KFCI_REPO_ROOT", "KFCI_RESULTS_DIR", "KFCI_GIT_ROOT", "KFCI_NFS_ROOT", "KFCI_GCP_API_ENDPOINT", "KFCI_JANITOR_REAL_GCP", "KFCI_GITHUB_API_URL", "KFCI_CLUSTER_TOKEN", "PORT",
    };

    public static IReadOnlyList<string> EnvironmentMatchesCode(TerraformTree tree, CodeEnvironment code)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(code);
        var violations = new List<string>();
        var functions = Functions(tree);
        var byFunction = EnvironmentByFunction(tree);
        foreach (var (directory, names) in code.ReadByFunctionDirectory)
        {
            var function = functions.FirstOrDefault(f => f.Directory == directory);
            var set = function is null ? new HashSet<string>() : byFunction[function.Key];
            // A function may read a local-stack-only variable too (the Uploader's NFS root), as shared code may.
            violations.AddRange(names.Where(n => !set.Contains(n) && !s_notSetInCloud.Contains(n)).Order(StringComparer.Ordinal)
                .Select(n => $"{directory} reads {n} but Terraform does not set it for {function?.Key ?? "(no deployment)"}"));
        }

        var union = byFunction.Values.SelectMany(s => s).ToHashSet(StringComparer.Ordinal);
        violations.AddRange(code.ReadByShared.Where(n => !union.Contains(n) && !s_notSetInCloud.Contains(n)).Order(StringComparer.Ordinal)
            .Select(n => $"shared/ reads {n} but Terraform sets it for no function"));

        foreach (var (function, names) in byFunction)
        {
            violations.AddRange(names.Where(n => n.StartsWith("KFCI_", StringComparison.Ordinal) && !code.Known.Contains(n)).Order(StringComparer.Ordinal)
                .Select(n => $"Terraform sets {n} for {function}, which the code does not know (not in KfciEnvironment.cs nor read anywhere)"));
            if (!names.Contains("FUNCTION_TARGET"))
            {
                violations.Add($"Terraform does not set FUNCTION_TARGET for {function}");
            }
        }

        var envSources = tree.ResourcesOfType(FunctionService)
            .SelectMany(s => Hcl.Blocks(s.Body, "template"))
            .SelectMany(t => Hcl.Blocks(t, "containers"))
            .SelectMany(c => Hcl.DynamicBlocks(c, "env"))
            .Select(e => Hcl.Attribute(e, "for_each") ?? "")
            .ToList();
        foreach (var source in new[] { "local.function_common_env", "local.cluster_env", "each.value.env", "each.value.secret_env" })
        {
            if (!envSources.Any(e => e.Contains(source, StringComparison.Ordinal)))
            {
                violations.Add($"the function service's container env does not include {source}");
            }
        }

        return violations;
    }

    private static IEnumerable<(string Function, string Account, IamGrant Grant)> FunctionRoles(TerraformTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var grants = IamGrants.All(tree);
        return Functions(tree)
            .Where(f => f.Account is not null)
            .SelectMany(f => IamGrants.HeldBy(grants, f.Account!, isFunctionAccount: true).Select(g => (f.Key, f.Account!, g)));
    }

    private static IEnumerable<string> CompareWithChain(string function, SortedSet<string> consumes, SortedSet<string> publishes)
    {
        if (!s_chain.TryGetValue(function, out var expected))
        {
            yield return $"local.functions.{function} is not a function of the chain ({string.Join(", ", s_chain.Keys)})";
            yield break;
        }

        if (!consumes.SetEquals(expected.Consumes))
        {
            yield return $"{function} consumes [{string.Join(", ", consumes)}] but the chain says [{string.Join(", ", expected.Consumes)}]";
        }

        if (!publishes.SetEquals(expected.Publishes))
        {
            yield return $"{function} publishes [{string.Join(", ", publishes)}] but the chain says [{string.Join(", ", expected.Publishes)}]";
        }
    }

    // Role families that administer (and so delete) compute, GKE or Deployment Manager resources.
    [GeneratedRegex(@"^roles/(compute|container|deploymentmanager)\.[A-Za-z.]*([Aa]dmin|[Ee]ditor)(\.v1)?$")]
    private static partial Regex DeletingRolePattern();

    // projects/<literal>, <literal>.svc.id.goog, @<literal>.iam.gserviceaccount.com, <registry>/<literal>/.
    [GeneratedRegex(@"(?<![$\w{-])(projects/[a-z][a-z0-9-]{4,28}[a-z0-9](?=/|$|"")|[a-z][a-z0-9-]{4,28}[a-z0-9]\.svc\.id\.goog|@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com|(docker\.pkg\.dev|gcr\.io)/[a-z][a-z0-9-]{4,28}[a-z0-9]/)")]
    private static partial Regex LiteralProjectPattern();
}
