using System.Text;
using Kfci.Prow;

namespace Kfci.Tests.Prow;

public sealed class ProwEventParserTests
{
    private static readonly DateTimeOffset s_published = new(2024, 5, 31, 12, 0, 0, 123, TimeSpan.Zero);

    private const string PresubmitReport = """
        {"project":"my-proj","topic":"prow-events","runid":"run-123","status":"triggered",
         "url":"https://prow.example.com/view/gs/bucket/pr-logs/pull/o_r/5/my-job/1258197944759226371",
         "gcs_path":"gs://bucket/pr-logs/pull/o_r/5/my-job/1258197944759226371",
         "refs":[{"org":"kubeflow","repo":"testing","base_ref":"master","base_sha":"0123456789abcdef0123456789abcdef01234567",
                  "pulls":[{"number":5,"author":"u","sha":"fedcba9876543210fedcba9876543210fedcba98","title":"Fix it","head_ref":"fix"}]},
                 {"org":"kubeflow","repo":"manifests","base_ref":"master"}],
         "job_type":"presubmit","job_name":"kubeflow-testing-presubmit","message":"Job triggered."}
        """;

    private const string PostsubmitTrigger = """
        {"name":" kubeflow-postsubmit ","refs":{"org":"kubeflow","repo":"kubeflow","base_ref":"master","base_sha":"abcdef0"},
         "envs":{"GIT_BRANCH":"v1.2"},"labels":{"l":"v"},"annotations":{"prow.k8s.io/pubsub.topic":"results"}}
        """;

    private static ProwEvent Crier(string json) => ProwEventParser.Parse(Encoding.UTF8.GetBytes(json), null, "1", s_published);

    private static ProwEvent Trigger(string json, string eventType = ProwEventParser.PostsubmitEvent, string messageId = "4242") =>
        ProwEventParser.Parse(Encoding.UTF8.GetBytes(json), new Dictionary<string, string> { [ProwEventParser.EventTypeAttribute] = eventType }, messageId, s_published);

    [Fact]
    public void Parse_CrierReport_ReadsEveryField()
    {
        var e = Crier(PresubmitReport);

        Assert.Equal(ProwEventKind.CrierReport, e.Kind);
        Assert.Equal(ProwJobState.Triggered, e.State);
        Assert.Equal(JobType.Presubmit, e.Job.Type);
        Assert.Equal("kubeflow-testing-presubmit", e.Job.JobName);
        Assert.Equal("1258197944759226371", e.Job.BuildId);
        Assert.Equal("testing", e.Job.Refs!.Repo);
        Assert.Equal(5, e.Job.Refs.FirstPull!.Number);
        Assert.Equal("manifests", Assert.Single(e.Job.ExtraRefs).Repo);
        Assert.Equal("Job triggered.", e.Message);
        Assert.StartsWith("gs://bucket/", e.GcsPath, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CrierReportWithoutGcsPath_BuildIdFromUrl()
    {
        var e = Crier("""{"status":"pending","job_type":"periodic","job_name":"ci-kubeflow-periodic","gcs_path":"","url":"https://prow/view/gs/b/logs/j/777/"}""");

        Assert.Equal("777", e.Job.BuildId);
        Assert.Null(e.Job.Refs);
    }

    [Theory]
    [InlineData("\"gcs_path\":\"\",\"url\":\"\",\"runid\":\"run-9\"")]
    [InlineData("\"runid\":\"ci-kubeflow-periodic\"")]
    [InlineData("")]
    public void Parse_CrierReportBeforeProwScheduledABuild_IsUnscheduledNotARunNamedAfterRunId(string fields)
    {
        // Crier's triggered report precedes plank's URL; its runid is a label shared by every build of the job.
        var json = $$"""{"status":"triggered","job_type":"periodic","job_name":"ci-kubeflow-periodic"{{(fields.Length > 0 ? "," + fields : "")}}}""";

        var e = Assert.Throws<UnscheduledReportException>(() => Crier(json));
        Assert.Contains("before Prow scheduled a build", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PeriodicReportWithRefs_TreatsThemAsExtraRefs()
    {
        var e = Crier("""{"status":"pending","job_type":"periodic","job_name":"p","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"kubeflow","repo":"testing","base_ref":"master"}]}""");

        Assert.Null(e.Job.Refs);
        Assert.Equal("testing", e.Job.PrimaryRefs!.Repo);
    }

    [Fact]
    public void Parse_TriggerRequest_ReadsJobAndAssignsNumericBuildId()
    {
        var e = Trigger(PostsubmitTrigger);

        Assert.Equal(ProwEventKind.TriggerRequest, e.Kind);
        Assert.Null(e.State);
        Assert.Equal(JobType.Postsubmit, e.Job.Type);
        Assert.Equal("kubeflow-postsubmit", e.Job.JobName);
        Assert.Equal("v1.2", e.Envs["GIT_BRANCH"]);
        Assert.Equal("results", e.Annotations["prow.k8s.io/pubsub.topic"]);
        Assert.Matches("^[0-9]{19}$", e.Job.BuildId);
        Assert.Equal(s_published.ToUnixTimeMilliseconds() - ProwEventParser.SnowflakeEpochMilliseconds, long.Parse(e.Job.BuildId, System.Globalization.CultureInfo.InvariantCulture) >> 22);
    }

    [Fact]
    public void Parse_SameTriggerRedelivered_SameBuildIdAndRun()
    {
        Assert.Equal(Trigger(PostsubmitTrigger).Run, Trigger(PostsubmitTrigger).Run);
        Assert.NotEqual(Trigger(PostsubmitTrigger).Job.BuildId, Trigger(PostsubmitTrigger, messageId: "4243").Job.BuildId);
    }

    [Fact]
    public void BuildIdFor_LaterPublishTime_IsLarger()
    {
        var ids = Enumerable.Range(0, 50)
            .Select(i => long.Parse(ProwEventParser.BuildIdFor($"m{i % 7}", s_published.AddMilliseconds(i)), System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

        Assert.Equal(ids.Order(), ids);
    }

    [Fact]
    public void BuildIdFor_SortsAfterProwsSnowflakeIdsOfEarlierBuilds()
    {
        // Prow (pkg/pjutil) names builds with snowflake ids: (ms - 1288834974657) << 22, node and sequence below.
        var now = DateTimeOffset.UtcNow;
        var prowOneSecondEarlier = ((now.AddSeconds(-1).ToUnixTimeMilliseconds() - 1288834974657) << 22) | 0x3FFFFF;
        var prowOneSecondLater = (now.AddSeconds(1).ToUnixTimeMilliseconds() - 1288834974657) << 22;

        var kfci = long.Parse(ProwEventParser.BuildIdFor("m", now), System.Globalization.CultureInfo.InvariantCulture);

        Assert.InRange(kfci, prowOneSecondEarlier + 1, prowOneSecondLater - 1);
    }

    [Fact]
    public void BuildIdFor_SameMillisecond_DistinctIds()
    {
        var ids = Enumerable.Range(0, 200).Select(i => ProwEventParser.BuildIdFor($"message-{i}", s_published)).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Parse_PeriodicTriggerWithoutRefs_Accepted()
    {
        var e = Trigger("""{"name":"ci-periodic"}""", ProwEventParser.PeriodicEvent);

        Assert.Equal(JobType.Periodic, e.Job.Type);
        Assert.Empty(e.Job.ExtraRefs);
    }

    [Theory]
    [InlineData("not json", "not a valid")]
    [InlineData("null", "JSON null")]
    [InlineData("[1]", "not a valid")]
    [InlineData("""{"status":"pending","job_type":"periodic","url":"https://p/view/gs/b/logs/j/1"}""", "missing field 'job_name'")]
    [InlineData("""{"status":"pending","job_name":"j","url":"https://p/view/gs/b/logs/j/1"}""", "missing field 'job_type'")]
    [InlineData("""{"status":"pending","job_type":"nightly","job_name":"j","url":"https://p/view/gs/b/logs/j/1"}""", "unknown job type 'nightly'")]
    [InlineData("""{"status":"exploded","job_type":"periodic","job_name":"j","url":"https://p/view/gs/b/logs/j/1"}""", "unknown job state 'exploded'")]
    [InlineData("""{"status":"pending","job_type":"periodic","job_name":"j; rm -rf /","url":"https://p/view/gs/b/logs/j/1"}""", "job name")]
    [InlineData("""{"status":"pending","job_type":"periodic","job_name":"j","url":"https://x/view/gs/b/../.."}""", "build id from url")]
    [InlineData("""{"status":"pending","job_type":"presubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1"}""", "needs refs")]
    [InlineData("""{"status":"pending","job_type":"presubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"o","repo":"r","base_ref":"main"}]}""", "needs refs.pulls")]
    [InlineData("""{"status":"pending","job_type":"postsubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"o","repo":"r","base_ref":"main"}]}""", "needs refs.base_sha")]
    [InlineData("""{"status":"pending","job_type":"postsubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"o/../x","repo":"r","base_ref":"main","base_sha":"abcdef0"}]}""", "refs[0].org")]
    [InlineData("""{"status":"pending","job_type":"postsubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"o","repo":"r","base_ref":"main","base_sha":"$(id)"}]}""", "not a git commit sha")]
    [InlineData("""{"status":"pending","job_type":"postsubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"repo":"r"}]}""", "not a valid")]
    [InlineData("""{"status":"pending","job_type":"presubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"o","repo":"r","base_ref":"main","pulls":[{"number":-1,"sha":"abcdef0"}]}]}""", "positive")]
    [InlineData("""{"status":"pending","job_type":"presubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"o","repo":"r","base_ref":"../../etc","pulls":[{"number":1,"sha":"abcdef0"}]}]}""", "safe git ref")]
    [InlineData("""{"status":"pending","job_type":"presubmit","job_name":"j","url":"https://p/view/gs/b/logs/j/1","refs":[{"org":"o","repo":"r","base_ref":"main","pulls":[{"number":1,"sha":"abcdef0","title":"a\nb"}]}]}""", "control characters")]
    public void Parse_HostileCrierReport_ThrowsInvalidEvent(string json, string reason)
    {
        var e = Assert.Throws<InvalidEventException>(() => Crier(json));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("""{"refs":{"org":"o","repo":"r"}}""", ProwEventParser.PostsubmitEvent, "missing field 'name'")]
    [InlineData("""{"name":"j","refs":{"org":"o","repo":"r","base_ref":"main","base_sha":"abcdef0"},"envs":{"BAD-NAME":"x"}}""", ProwEventParser.PostsubmitEvent, "envs name")]
    [InlineData("""{"name":"j"}""", "prow.k8s.io/pubsub.BatchProwJobEvent", "unsupported event type")]
    [InlineData("""{"name":"j"}""", ProwEventParser.PresubmitEvent, "needs refs")]
    [InlineData("""{"name":"j","refs":{"org":"o","repo":"r","base_ref":"main","pulls":[{"number":1,"sha":"abcdef0"}]}}""", ProwEventParser.PeriodicEvent, "refs[0] names pull requests")]
    public void Parse_HostileTriggerRequest_ThrowsInvalidEvent(string json, string eventType, string reason)
    {
        var e = Assert.Throws<InvalidEventException>(() => Trigger(json, eventType));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RepositoryNamedLikeDotGithub_IsAccepted()
    {
        var parsed = Trigger("""{"name":"j","refs":{"org":"kubeflow","repo":".github","base_ref":"main","base_sha":"abcdef0"}}""");

        Assert.Equal(".github", parsed.Job.PrimaryRefs!.Repo);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("r r")]
    public void Parse_RepositoryNameGitHubRefuses_ThrowsInvalidEvent(string repo)
    {
        var json = $$$"""{"name":"j","refs":{"org":"o","repo":"{{{repo}}}","base_ref":"main","base_sha":"abcdef0"}}""";

        var e = Assert.Throws<InvalidEventException>(() => Trigger(json));

        Assert.Contains("refs[0].repo", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OversizedData_ThrowsBeforeParsing()
    {
        var huge = new byte[ProwEventParser.MaxEventBytes + 1];

        var e = Assert.Throws<InvalidEventException>(() => ProwEventParser.Parse(huge, null, "1", s_published));

        Assert.Contains("bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OversizedEnvValue_Throws()
    {
        var json = $$$"""{"name":"j","envs":{"A":"{{{new string('x', 5000)}}}"}}""";

        Assert.Throws<InvalidEventException>(() => Trigger(json, ProwEventParser.PeriodicEvent));
    }
}
