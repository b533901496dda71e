using System.Text.RegularExpressions;

namespace Kfci.Prow;

/// <summary>
/// The safety rules for what an event names. Org, repo, job and build id end up in label values, GCS object paths,
/// Firestore ids and shell environments, so they are held to patterns far narrower than "any string".
/// </summary>
internal static partial class EventValidation
{
    public const int MaxRefs = 16;
    public const int MaxPulls = 64;
    public const int MaxUrlLength = 2048;
    private const int MaxMapEntries = 64;
    private const int MaxValueLength = 4096;
    private const int MaxTitleLength = 1024;

    // Prow requires job names to match ^[A-Za-z0-9-._]+$; kfci also wants them to start with a letter or digit.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\z")]
    private static partial Regex JobNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\z")]
    private static partial Regex OrgPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex BuildIdPattern();

    [GeneratedRegex(@"^[0-9a-fA-F]{7,64}\z")]
    private static partial Regex ShaPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z")]
    private static partial Regex EnvNamePattern();

    public static string JobName(string name) => Match(name, JobNamePattern(), "job name");

    public static string BuildId(string id, string source) => Match(id, BuildIdPattern(), $"build id from {source}");

    public static void Refs(Refs refs, string where)
    {
        Match(refs.Org, OrgPattern(), $"{where}.org");

        // GitHub's repository rules, as everywhere kfci names a repository: a name may start with '.' (".github").
        if (!Sources.RepositoryName.IsValidPart(refs.Repo))
        {
            throw new InvalidEventException($"{where}.repo '{ProwEventParser.Shorten(refs.Repo)}' is not a GitHub repository name (letters, digits, '-', '_', '.'; not '.' or '..'; at most 100)");
        }

        GitRef(refs.BaseRef, $"{where}.base_ref");
        Sha(refs.BaseSha, $"{where}.base_sha");
        foreach (var (field, value) in new[] { ("repo_link", refs.RepoLink), ("base_link", refs.BaseLink), ("clone_uri", refs.CloneUri), ("path_alias", refs.PathAlias) })
        {
            Text(value, $"{where}.{field}", MaxUrlLength);
        }

        var pulls = refs.Pulls ?? [];
        if (pulls.Count > MaxPulls)
        {
            throw new InvalidEventException($"{where} has {pulls.Count} pulls, more than {MaxPulls}");
        }

        foreach (var (pull, i) in pulls.Select((p, i) => (p, i)))
        {
            Pull(pull, $"{where}.pulls[{i}]");
        }
    }

    /// <summary>
    /// What each job type needs to be tested at all: postsubmits and batches a base sha, presubmits a pull. An on-call
    /// postsubmit (<paramref name="branchHeadAllowed"/>) may name just its branch: the Trigger tests the branch's head.
    /// </summary>
    public static void RequireFor(JobType type, Refs refs, bool branchHeadAllowed = false)
    {
        if (string.IsNullOrEmpty(refs.BaseRef))
        {
            throw new InvalidEventException($"a {type.ToProwString()} event needs refs.base_ref");
        }

        if ((type == JobType.Batch || (type == JobType.Postsubmit && !branchHeadAllowed)) && string.IsNullOrEmpty(refs.BaseSha))
        {
            throw new InvalidEventException($"a {type.ToProwString()} event needs refs.base_sha");
        }

        if (type is JobType.Presubmit or JobType.Batch && refs.FirstPull is not { Sha.Length: > 0 })
        {
            throw new InvalidEventException($"a {type.ToProwString()} event needs refs.pulls with a number and sha");
        }
    }

    public static IReadOnlyDictionary<string, string> Envs(Dictionary<string, string>? envs)
    {
        var map = Map(envs, "envs");
        foreach (var name in map.Keys)
        {
            Match(name, EnvNamePattern(), "envs name");
        }

        return map;
    }

    public static IReadOnlyDictionary<string, string> Map(Dictionary<string, string>? map, string field)
    {
        if (map is null)
        {
            return new Dictionary<string, string>();
        }

        if (map.Count > MaxMapEntries)
        {
            throw new InvalidEventException($"{field} has {map.Count} entries, more than {MaxMapEntries}");
        }

        foreach (var (key, value) in map)
        {
            Text(key, $"{field} key", 317);
            Text(value, $"{field}['{ProwEventParser.Shorten(key)}']", MaxValueLength);
        }

        return map;
    }

    /// <summary>Free text: bounded, and without control characters that would break env files, logs or YAML.</summary>
    public static string? Text(string? value, string field, int maxLength)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > maxLength)
        {
            throw new InvalidEventException($"{field} is {value.Length} characters, more than {maxLength}");
        }

        if (value.Any(char.IsControl))
        {
            throw new InvalidEventException($"{field} contains control characters");
        }

        return value;
    }

    private static void Pull(Pull pull, string where)
    {
        if (pull.Number <= 0)
        {
            throw new InvalidEventException($"{where}.number must be a positive pull request number, not {pull.Number}");
        }

        Sha(pull.Sha, $"{where}.sha");
        Text(pull.Author, $"{where}.author", 256);
        Text(pull.Title, $"{where}.title", MaxTitleLength);
        GitRef(pull.Ref, $"{where}.ref");
        GitRef(pull.HeadRef, $"{where}.head_ref");
        foreach (var (field, value) in new[] { ("link", pull.Link), ("commit_link", pull.CommitLink), ("author_link", pull.AuthorLink) })
        {
            Text(value, $"{where}.{field}", MaxUrlLength);
        }
    }

    private static void GitRef(string? value, string field)
    {
        if (!string.IsNullOrEmpty(value) && !GitRefName.IsSafe(value))
        {
            throw new InvalidEventException($"{field} '{ProwEventParser.Shorten(value)}' is not a safe git ref name");
        }
    }

    private static void Sha(string? value, string field)
    {
        if (!string.IsNullOrEmpty(value) && !ShaPattern().IsMatch(value))
        {
            throw new InvalidEventException($"{field} '{ProwEventParser.Shorten(value)}' is not a git commit sha");
        }
    }

    private static string Match(string value, Regex pattern, string field) =>
        pattern.IsMatch(value)
            ? value
            : throw new InvalidEventException($"{field} '{ProwEventParser.Shorten(value)}' has characters or a length that would break labels or paths (allowed: {pattern})");
}
