namespace Kfci.ProwConfig;

/// <summary>The rule for <c>workflow:</c> paths: relative, inside the repository, plain.</summary>
public static class WorkflowPath
{
    private const int MaxLength = 1024;

    /// <summary>
    /// Normalises a repository-relative path (<c>./a/../b.yaml</c> becomes <c>b.yaml</c>) and rejects anything that
    /// could read outside the checkout: absolute paths, drive letters, backslashes, URLs, <c>..</c> climbing above the
    /// root, control characters, or a path that names the root itself.
    /// </summary>
    /// <returns>The normalised path.</returns>
    /// <exception cref="ArgumentException">The path is not a plain relative path inside the repository.</exception>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path.Length > MaxLength || path.Any(char.IsControl))
        {
            throw new ArgumentException($"workflow path must be 1–{MaxLength} printable characters");
        }

        if (path.StartsWith('/') || path.StartsWith('~') || path.Contains('\\', StringComparison.Ordinal)
            || path.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"workflow path '{path}' must be relative to the repository root (no leading '/', '~', drive, URL or backslash)");
        }

        var segments = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count == 0)
                {
                    throw new ArgumentException($"workflow path '{path}' leaves the repository through '..'");
                }

                segments.RemoveAt(segments.Count - 1);
                continue;
            }

            segments.Add(segment);
        }

        return segments.Count == 0
            ? throw new ArgumentException($"workflow path '{path}' names the repository root, not a file")
            : string.Join('/', segments);
    }
}
