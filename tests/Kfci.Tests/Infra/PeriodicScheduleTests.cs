using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.Prow;

namespace Kfci.Tests.Infra;

/// <summary>
/// kfci's own periodics (infra/terraform/periodics.tf): every Cloud Scheduler job that publishes to prow-events sends a
/// Prow <c>PeriodicProwJobEvent</c>, and the data Terraform computes for a declared schedule is an event the Trigger's
/// own parser accepts as that periodic on those branches. The data is evaluated by <c>terraform console</c> (offline:
/// only the variable and the locals), so the check covers the expression Terraform really runs.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class PeriodicScheduleTests(TerraformFixture terraform)
{
    private const string Schedules = """
        {"periodics": {
          "kubeflow-testing-nightly": {"schedule": "0 3 * * *", "envs": {"SUITE": "nightly"},
            "repositories": [{"org": "kubeflow", "repo": "testing", "branch": "master"},
                             {"org": "kubeflow", "repo": "kfctl", "branch": "v1.2-branch"}]},
          "example.hourly": {"schedule": "0 * * * *", "time_zone": "Europe/Berlin",
            "repositories": [{"org": "local", "repo": "example-repo", "branch": "release/v1"}]}
        }}
        """;

    /// <summary>Violations of "a scheduler job publishing to prow-events publishes a periodic event built by local.periodic_events".</summary>
    internal static IReadOnlyList<string> PeriodicSchedulesPublishPeriodicEvents(TerraformTree tree)
    {
        var violations = new List<string>();
        var schedules = tree.ResourcesOfType("google_cloud_scheduler_job")
            .Where(job => Hcl.Blocks(job.Body, "pubsub_target").Any(t => Hcl.Attribute(t, "topic_name") == "${google_pubsub_topic.prow_events.id}"))
            .ToList();
        if (schedules.Count == 0)
        {
            violations.Add("no google_cloud_scheduler_job publishes to google_pubsub_topic.prow_events");
        }

        foreach (var job in schedules)
        {
            var target = Hcl.Blocks(job.Body, "pubsub_target").First();
            var attributes = target.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object
                ? a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal)
                : [];
            if (attributes.GetValueOrDefault(ProwEventParser.EventTypeAttribute) != ProwEventParser.PeriodicEvent || attributes.Count != 1)
            {
                violations.Add($"{job.Address} publishes to prow-events with attributes [{string.Join(", ", attributes.Select(p => $"{p.Key}={p.Value}"))}], not only {ProwEventParser.EventTypeAttribute}={ProwEventParser.PeriodicEvent}");
            }

            if (Hcl.Attribute(target, "data") != "${base64encode(jsonencode(local.periodic_events[each.key]))}")
            {
                violations.Add($"{job.Address} does not publish local.periodic_events[each.key] as its data");
            }

            if (Hcl.Attribute(job.Body, "for_each") != "${var.periodics}")
            {
                violations.Add($"{job.Address} is not one job per var.periodics entry");
            }
        }

        return violations;
    }

    [Fact]
    public void PeriodicSchedules_Configuration_PublishPeriodicEventsToProwEvents() =>
        Assert.Empty(PeriodicSchedulesPublishPeriodicEvents(terraform.Tree));

    [Fact]
    public void PeriodicSchedules_PostsubmitEventType_ReportsIt()
    {
        var broken = terraform.ParseBroken("periodics.tf", "prow.k8s.io/pubsub.PeriodicProwJobEvent", "prow.k8s.io/pubsub.PostsubmitProwJobEvent");

        Assert.Contains(PeriodicSchedulesPublishPeriodicEvents(broken), v => v.Contains("not only prow.k8s.io/pubsub.EventType=prow.k8s.io/pubsub.PeriodicProwJobEvent", StringComparison.Ordinal));
    }

    /// <summary>Violations of "each declared schedule's data is, to the Trigger's parser, that periodic on those branches".</summary>
    private static List<string> PeriodicEventViolations(JsonObject events, string tfvarsJson)
    {
        var violations = new List<string>();
        var attributes = new Dictionary<string, string> { [ProwEventParser.EventTypeAttribute] = ProwEventParser.PeriodicEvent };
        var declared = JsonNode.Parse(tfvarsJson)!["periodics"]!.AsObject();
        foreach (var (name, schedule) in declared)
        {
            if (events[name] is not JsonObject data)
            {
                violations.Add($"schedule {name} publishes no event");
                continue;
            }

            ProwEvent parsed;
            try
            {
                parsed = ProwEventParser.Parse(Encoding.UTF8.GetBytes(data.ToJsonString()), attributes, $"m-{name}", DateTimeOffset.UtcNow);
            }
            catch (InvalidEventException e)
            {
                violations.Add($"schedule {name} publishes an event the Trigger rejects: {e.Message}");
                continue;
            }

            var wanted = schedule!["repositories"]!.AsArray().Select(r => $"{r!["org"]}/{r["repo"]}@{r["branch"]}");
            var got = parsed.Job.ExtraRefs.Select(r => $"{r.Org}/{r.Repo}@{r.BaseRef}");
            if (parsed.Job.Type != JobType.Periodic || parsed.Job.JobName != name || !wanted.SequenceEqual(got) || parsed.Job.ExtraRefs.Any(r => r.BaseSha is not null))
            {
                violations.Add($"schedule {name} publishes {parsed.Job.Type.ToProwString()} {parsed.Job.JobName} on [{string.Join(", ", got)}], not periodic {name} on [{string.Join(", ", wanted)}]");
            }

            var envs = schedule["envs"]?.AsObject().ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal) ?? [];
            if (!envs.OrderBy(p => p.Key, StringComparer.Ordinal).SequenceEqual(parsed.Envs.OrderBy(p => p.Key, StringComparer.Ordinal)))
            {
                violations.Add($"schedule {name} does not pass its envs");
            }
        }

        return violations;
    }

    [Fact]
    public void PeriodicEvents_DeclaredSchedules_AreThosePeriodicsOnThoseBranchesToTheTrigger()
    {
        var events = Evaluate(File.ReadAllText(Path.Combine(terraform.ConfigurationDirectory, "periodics.tf")), Schedules);

        Assert.Equal(["example.hourly", "kubeflow-testing-nightly"], events.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Empty(PeriodicEventViolations(events, Schedules));
    }

    [Fact]
    public void LocalScheduler_SameVariablesFile_PublishesWhatCloudSchedulerWould()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("kfci-periodics-").FullName, "periodics.tfvars.json");
        File.WriteAllText(file, Schedules);
        var events = Evaluate(File.ReadAllText(Path.Combine(terraform.ConfigurationDirectory, "periodics.tf")), Schedules);

        var local = Kfci.Cli.Local.LocalPeriodics.Load(file);

        Assert.Equal(events.Select(e => e.Key).Order(StringComparer.Ordinal), local.Schedules.Select(s => s.Name).Order(StringComparer.Ordinal));
        foreach (var schedule in local.Schedules)
        {
            Assert.True(JsonNode.DeepEquals(events[schedule.Name], JsonNode.Parse(schedule.Message.Data.Span)), $"{schedule.Name}: {events[schedule.Name]} vs {Encoding.UTF8.GetString(schedule.Message.Data.Span)}");
            Assert.Equal(ProwEventParser.PeriodicEvent, schedule.Message.Attributes[ProwEventParser.EventTypeAttribute]);
        }

        var hourly = local.Schedules.Single(s => s.Name == "example.hourly");
        var from = new DateTimeOffset(2026, 12, 1, 10, 30, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 11, 0, 0, TimeSpan.Zero), hourly.NextAfter(from));
        Assert.Equal(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"), hourly.TimeZone);
    }

    [Fact]
    public void SchedulerJobIds_NamesThatSanitiseAlike_StayDistinctAndValid()
    {
        const string Alike = """
            {"periodics": {
              "a.b": {"schedule": "0 3 * * *", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]},
              "a-b": {"schedule": "0 3 * * *", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]},
              "a_b": {"schedule": "0 3 * * *", "repositories": [{"org": "o", "repo": "r", "branch": "main"}]}
            }}
            """;
        var tf = File.ReadAllText(Path.Combine(terraform.ConfigurationDirectory, "periodics.tf"));
        Assert.Contains("name        = local.periodic_scheduler_ids[each.key]", tf, StringComparison.Ordinal);

        var ids = Evaluate(tf, Alike, "periodic_scheduler_ids").Select(p => p.Value!.GetValue<string>()).ToList();

        Assert.Equal(3, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains("kfci-periodic-a-b", ids);
        Assert.All(ids, id => Assert.Matches("^[A-Za-z0-9_-]{1,500}$", id));
    }

    /// <summary>Schedules the Trigger would refuse (RepositoryName, GitRefName, ProwEvent's envs) are refused by the variable's validation.</summary>
    [Theory]
    [InlineData("{\"org\": \"o/x\", \"repo\": \"r\", \"branch\": \"main\"}", "", "org and repo are GitHub names")]
    [InlineData("{\"org\": \"o\", \"repo\": \"..\", \"branch\": \"main\"}", "", "org and repo are GitHub names")]
    [InlineData("{\"org\": \"o\", \"repo\": \"r\", \"branch\": \"a..b\"}", "", "git branch name")]
    [InlineData("{\"org\": \"o\", \"repo\": \"r\", \"branch\": \"-main\"}", "", "git branch name")]
    [InlineData("{\"org\": \"o\", \"repo\": \"r\", \"branch\": \"v1.lock\"}", "", "git branch name")]
    [InlineData("{\"org\": \"o\", \"repo\": \"r\", \"branch\": \"main\"}", ", \"envs\": {\"1A\": \"x\"}", "named like an environment variable")]
    public void Variable_ScheduleTheTriggerWouldRefuse_RefusedAtPlanTime(string repository, string envs, string reason)
    {
        var tfvars = $"{{\"periodics\": {{\"x\": {{\"schedule\": \"0 3 * * *\", \"repositories\": [{repository}]{envs}}}}}}}";
        var tf = File.ReadAllText(Path.Combine(terraform.ConfigurationDirectory, "periodics.tf"));

        var (_, error) = TerraformConsole(tf, tfvars, "length(var.periodics)");

        Assert.Contains("Invalid value for variable", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Invalid value", TerraformConsole(tf, "{\"periodics\": {\"x\": {\"schedule\": \"0 3 * * *\", \"repositories\": [{\"org\": \"o\", \"repo\": \".github\", \"branch\": \"release/v1.2\"}]}}}", "length(var.periodics)").Error, StringComparison.Ordinal);
    }

    [Fact]
    public void PeriodicEvents_BranchNotMappedToBaseRef_ReportsIt()
    {
        var broken = File.ReadAllText(Path.Combine(terraform.ConfigurationDirectory, "periodics.tf"))
            .Replace("base_ref = r.branch", "ref = r.branch", StringComparison.Ordinal);

        var violations = PeriodicEventViolations(Evaluate(broken, Schedules), Schedules);

        Assert.Equal(["schedule kubeflow-testing-nightly publishes periodic kubeflow-testing-nightly on [kubeflow/testing@master, kubeflow/kfctl@], not periodic kubeflow-testing-nightly on [kubeflow/testing@master, kubeflow/kfctl@v1.2-branch]"], violations);
    }

    /// <summary>
    /// <c>jsonencode(local.periodic_events)</c> for <paramref name="tfvarsJson"/>, by <c>terraform console</c> over the
    /// file's <c>variable "periodics"</c> and <c>locals</c> blocks alone (no provider, so no init and no network).
    /// </summary>
    private static JsonObject Evaluate(string periodicsTf, string tfvarsJson, string local = "periodic_events")
    {
        var (output, error) = TerraformConsole(periodicsTf, tfvarsJson, $"jsonencode(local.{local})");
        Assert.True(error.Length == 0 || output.Split('\n').Any(l => l.StartsWith('"')), error);

        // The console prints the JSON as an HCL string literal, i.e. a JSON string.
        var literal = output.Split('\n').First(l => l.StartsWith('"'));
        return JsonNode.Parse(JsonSerializer.Deserialize<string>(literal)!)!.AsObject();
    }

    /// <summary>What <c>terraform console</c> prints for <paramref name="expression"/> over the file's <c>variable "periodics"</c> and <c>locals</c> blocks (it exits 0 even when a validation fails).</summary>
    private static (string Output, string Error) TerraformConsole(string periodicsTf, string tfvarsJson, string expression)
    {
        var directory = Directory.CreateTempSubdirectory("kfci-periodics-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "periodics.tf"), Block(periodicsTf, "variable \"periodics\" {") + "\n\n" + Block(periodicsTf, "locals {") + "\n");
            File.WriteAllText(Path.Combine(directory.FullName, "schedules.tfvars.json"), tfvarsJson);
            var start = new ProcessStartInfo("terraform", ["console", "-no-color", "-var-file=schedules.tfvars.json"])
            {
                WorkingDirectory = directory.FullName,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["TF_CLI_CONFIG_FILE"] = "/dev/null";
            start.Environment["CHECKPOINT_DISABLE"] = "1";
            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("this test evaluates infra/terraform/periodics.tf with the terraform CLI, which is not installed (https://developer.hashicorp.com/terraform/install)", e);
            }

            using (process)
            {
                process.StandardInput.WriteLine(expression);
                process.StandardInput.Close();
                var output = process.StandardOutput.ReadToEnd();
                var error = process.StandardError.ReadToEnd();
                Assert.True(process.WaitForExit(60_000), "terraform console did not finish");
                Assert.True(process.ExitCode == 0, error);
                return (output, error);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The block starting at <paramref name="start"/>, through its closing brace.</summary>
    private static string Block(string text, string start)
    {
        var at = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(at >= 0, $"periodics.tf has no {start}");
        var depth = 0;
        for (var i = at; i < text.Length; i++)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0 && text[i] == '}')
            {
                return text[at..(i + 1)];
            }
        }

        throw new InvalidOperationException($"unbalanced braces after {start}");
    }
}
