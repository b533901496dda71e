using System.Globalization;
using System.Text.Json.Serialization;

namespace Kfci.Prow;

/// <summary>
/// Prow's <c>Refs</c>: the repository, base and pulls a job tests, with Prow's exact JSON names
/// (<c>pkg/apis/prowjobs/v1/types.go</c>). Every field but <c>org</c> and <c>repo</c> is <c>omitempty</c> in Go,
/// so null or default values are left out when written.
/// </summary>
public sealed record Refs
{
    [JsonPropertyName("org")]
    public required string Org { get; init; }

    [JsonPropertyName("repo")]
    public required string Repo { get; init; }

    [JsonPropertyName("repo_link"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RepoLink { get; init; }

    [JsonPropertyName("base_ref"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? BaseRef { get; init; }

    [JsonPropertyName("base_sha"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? BaseSha { get; init; }

    [JsonPropertyName("base_link"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? BaseLink { get; init; }

    [JsonPropertyName("pulls"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Pull>? Pulls { get; init; }

    [JsonPropertyName("path_alias"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PathAlias { get; init; }

    // Prow spells it "workdir", not "work_dir".
    [JsonPropertyName("workdir"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool WorkDir { get; init; }

    [JsonPropertyName("clone_uri"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CloneUri { get; init; }

    [JsonPropertyName("skip_submodules"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool SkipSubmodules { get; init; }

    [JsonPropertyName("clone_depth"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int CloneDepth { get; init; }

    /// <summary>The first pull, whose fields become <c>PULL_NUMBER</c>, <c>PULL_PULL_SHA</c>... for presubmits; null when there is none.</summary>
    [JsonIgnore]
    public Pull? FirstPull => Pulls is { Count: > 0 } pulls ? pulls[0] : null;

    /// <summary>
    /// Prow's <c>Refs.String()</c>, the value of <c>PULL_REFS</c>: <c>base_ref[:base_sha],num:sha[:ref],...</c>.
    /// </summary>
    public string ToPullRefs()
    {
        var parts = new List<string> { string.IsNullOrEmpty(BaseSha) ? BaseRef ?? "" : $"{BaseRef}:{BaseSha}" };
        foreach (var pull in Pulls ?? [])
        {
            var part = $"{pull.Number.ToString(CultureInfo.InvariantCulture)}:{pull.Sha}";
            parts.Add(string.IsNullOrEmpty(pull.Ref) ? part : $"{part}:{pull.Ref}");
        }

        return string.Join(',', parts);
    }
}

/// <summary>Prow's <c>Pull</c>: one pull request of a <see cref="Refs"/>. <c>number</c>, <c>author</c> and <c>sha</c> are always written.</summary>
public sealed record Pull
{
    [JsonPropertyName("number")]
    public required int Number { get; init; }

    [JsonPropertyName("author")]
    public string Author { get; init; } = "";

    [JsonPropertyName("sha")]
    public string Sha { get; init; } = "";

    [JsonPropertyName("title"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Title { get; init; }

    [JsonPropertyName("ref"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ref { get; init; }

    [JsonPropertyName("head_ref"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? HeadRef { get; init; }

    [JsonPropertyName("link"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Link { get; init; }

    [JsonPropertyName("commit_link"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CommitLink { get; init; }

    [JsonPropertyName("author_link"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AuthorLink { get; init; }
}
