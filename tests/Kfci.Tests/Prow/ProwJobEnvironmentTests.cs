using System.Text.Json;
using Kfci.Prow;

namespace Kfci.Tests.Prow;

public sealed class ProwJobEnvironmentTests
{
    private static readonly string[] s_common = ["BUILD_ID", "BUILD_NUMBER", "CI", "JOB_NAME", "JOB_SPEC", "JOB_TYPE", "PROW_JOB_ID"];
    private static readonly string[] s_repo = ["PULL_BASE_REF", "PULL_BASE_SHA", "PULL_REFS", "REPO_NAME", "REPO_OWNER"];
    private static readonly string[] s_pull = ["PULL_HEAD_REF", "PULL_NUMBER", "PULL_PULL_SHA", "PULL_TITLE"];

    private static readonly Refs s_refs = new()
    {
        Org = "org-name",
        Repo = "repo-name",
        BaseRef = "base-ref",
        BaseSha = "base-sha",
        Pulls = [new Pull { Number = 1, Author = "author-name", Sha = "pull-sha", Title = "pull-title", HeadRef = "pull-branch" }],
    };

    private static ProwJobSpec Spec(JobType type) =>
        type == JobType.Periodic ? new(type, "job-name", "0", null, [s_refs]) : new(type, "job-name", "0", s_refs, []);

    [Theory]
    [InlineData(JobType.Periodic, false, false)]
    [InlineData(JobType.Postsubmit, true, false)]
    [InlineData(JobType.Batch, true, false)]
    [InlineData(JobType.Presubmit, true, true)]
    public void For_EachJobType_HasExactlyPowsVariables(JobType type, bool repo, bool pull)
    {
        var expected = s_common.Concat(repo ? s_repo : []).Concat(pull ? s_pull : []).Order(StringComparer.Ordinal);

        Assert.Equal(expected, ProwJobEnvironment.For(Spec(type)).Keys);
    }

    [Fact]
    public void For_Presubmit_ValuesMatchProw()
    {
        var env = ProwJobEnvironment.For(Spec(JobType.Presubmit));

        Assert.Equal("true", env["CI"]);
        Assert.Equal("presubmit", env["JOB_TYPE"]);
        Assert.Equal("1", env["PULL_NUMBER"]);
        Assert.Equal("pull-sha", env["PULL_PULL_SHA"]);
        Assert.Equal("pull-branch", env["PULL_HEAD_REF"]);
        Assert.Equal("pull-title", env["PULL_TITLE"]);
        Assert.Equal("base-ref:base-sha,1:pull-sha", env["PULL_REFS"]);
        Assert.Equal(env["BUILD_ID"], env["BUILD_NUMBER"]);
        Assert.Equal(new RunIdentity("job-name", "0").RunId, env["PROW_JOB_ID"]);
    }

    [Fact]
    public void ToJson_Presubmit_IsProwsJobSpec()
    {
        // Prow's documented example with kfci's prowjobid; empty fields are omitted as Go's omitempty does.
        var expected = """{"type":"presubmit","job":"job-name","buildid":"0","prowjobid":"PJ","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","pulls":[{"number":1,"author":"author-name","sha":"pull-sha","title":"pull-title","head_ref":"pull-branch"}]}}""";
        var spec = Spec(JobType.Presubmit);

        Assert.Equal(expected.Replace("PJ", spec.ProwJobId, StringComparison.Ordinal), spec.ToJson());
    }

    [Fact]
    public void ToJson_Periodic_HasExtraRefsAndNoRefs()
    {
        using var doc = JsonDocument.Parse(Spec(JobType.Periodic).ToJson());

        Assert.False(doc.RootElement.TryGetProperty("refs", out _));
        Assert.Equal("repo-name", doc.RootElement.GetProperty("extra_refs")[0].GetProperty("repo").GetString());
    }

    [Fact]
    public void For_ExtraEnvs_AddedButNeverOverrideProw()
    {
        var env = ProwJobEnvironment.For(Spec(JobType.Presubmit), new Dictionary<string, string> { ["JOB_NAME"] = "spoofed", ["GIT_BRANCH"] = "v1" });

        Assert.Equal("job-name", env["JOB_NAME"]);
        Assert.Equal("v1", env["GIT_BRANCH"]);
    }

    [Theory]
    [InlineData("main", "", "main")]
    [InlineData("main", "abc", "main:abc")]
    public void ToPullRefs_NoPulls_IsBaseOnly(string baseRef, string baseSha, string expected) =>
        Assert.Equal(expected, new Refs { Org = "o", Repo = "r", BaseRef = baseRef, BaseSha = baseSha }.ToPullRefs());

    [Fact]
    public void ToPullRefs_BatchWithRefs_ListsEveryPull()
    {
        var refs = new Refs
        {
            Org = "o",
            Repo = "r",
            BaseRef = "master",
            BaseSha = "b1",
            Pulls = [new Pull { Number = 2, Sha = "s2" }, new Pull { Number = 3, Sha = "s3", Ref = "refs/pull/3/head" }],
        };

        Assert.Equal("master:b1,2:s2,3:s3:refs/pull/3/head", refs.ToPullRefs());
    }

    [Theory]
    [InlineData(JobType.Presubmit, "org-name/repo-name@pull-sha:1")]
    [InlineData(JobType.Postsubmit, "org-name/repo-name@base-sha")]
    [InlineData(JobType.Batch, "org-name/repo-name@base-sha")]
    [InlineData(JobType.Periodic, "org-name/repo-name@base-sha")]
    public void RepoSpec_PerJobType_IsCheckoutFormat(JobType type, string expected) =>
        Assert.Equal(expected, RepoSpec.For(Spec(type)));

    [Fact]
    public void RepoSpec_PeriodicWithBranchOnly_TheBranch() =>
        Assert.Equal("org-name/repo-name@base-ref", RepoSpec.For(new ProwJobSpec(JobType.Periodic, "p", "0", null, [s_refs with { BaseSha = null }])));

    [Fact]
    public void FromJson_WhatToJsonWrote_TheSameSpec()
    {
        var spec = new ProwJobSpec(JobType.Periodic, "p", "7", null, [s_refs with { Pulls = null }]);

        var read = ProwJobSpec.FromJson(spec.ToJson());

        Assert.Equal(spec.ToJson(), read.ToJson());
        Assert.Equal(JobType.Periodic, read.Type);
        Assert.Throws<FormatException>(() => ProwJobSpec.FromJson("{\"type\":\"nightly\",\"job\":\"p\",\"buildid\":\"1\"}"));
    }

    [Fact]
    public void RunIdentity_LongAndOddNames_AreSafeStableAndDistinct()
    {
        var a = new RunIdentity(new string('J', 150) + ".x_y", "12345678901234567890123");
        var b = new RunIdentity(new string('J', 150) + ".x_z", "12345678901234567890123");

        Assert.Matches("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", a.RunId);
        Assert.True(a.RunId.Length <= 63);
        Assert.Equal(a.RunId, new RunIdentity(new string('J', 150) + ".x_y", "12345678901234567890123").RunId);
        Assert.NotEqual(a.RunId, b.RunId);
        Assert.NotEqual(new RunIdentity("a-b", "c").RunId, new RunIdentity("a", "b-c").RunId);
        Assert.Matches("^[0-9a-f]{4}$", a.NameSalt);
    }
}
