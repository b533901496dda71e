namespace Kfci.Functions.Uploader;

/// <summary>A file a workflow wrote under its <c>artifacts_dir</c>, to be uploaded: its path on the volume and relative to the directory.</summary>
public sealed record ArtifactFile(string FullPath, string RelativePath, long Size);

/// <summary>Limits on what one workflow's artifacts directory may contribute to a build.</summary>
public sealed record ArtifactLimits
{
    /// <summary>A larger file is left out (and said so).</summary>
    public long MaxFileBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Once a workflow's files add up to this, the rest are left out.</summary>
    public long MaxTotalBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>At most this many files per workflow.</summary>
    public int MaxFiles { get; init; } = 5_000;

    /// <summary>Directories deeper than this are not entered.</summary>
    public int MaxDepth { get; init; } = 16;
}

/// <summary>What <see cref="ArtifactsDirectory.Collect"/> found: the files to upload, in name order, and one line per thing left out.</summary>
public sealed record ArtifactListing(IReadOnlyList<ArtifactFile> Files, IReadOnlyList<string> LeftOut);

/// <summary>
/// Reads a workflow's artifacts directory on the NFS volume (<c>&lt;root&gt;/&lt;workflow&gt;/output/artifacts</c>, the
/// <c>artifacts_dir</c> parameter), the same way on the local stack and in the cloud, where the Uploader mounts the
/// Filestore share read-only. The directory is written by the code under test, so it is hostile: only regular files
/// are read (anything reporting size 0 is uploaded empty without being opened); a symbolic link is collected only when it names a regular file inside the workflow's own directory,
/// and linked directories are never entered (no escape, no cycles); sizes, count and depth are bounded.
/// </summary>
public static class ArtifactsDirectory
{
    /// <summary>The artifacts directory of <paramref name="workflow"/> under the volume's root.</summary>
    public static string PathOf(string nfsRoot, string workflow) => Path.Combine(nfsRoot, workflow, "output", "artifacts");

    /// <summary>Lists what to upload from <paramref name="workflow"/>'s artifacts directory; empty when it has none.</summary>
    public static ArtifactListing Collect(string nfsRoot, string workflow, ArtifactLimits limits)
    {
        ArgumentNullException.ThrowIfNull(nfsRoot);
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(limits);
        var files = new List<ArtifactFile>();
        var leftOut = new List<string>();
        var directory = new DirectoryInfo(PathOf(nfsRoot, workflow));
        if (!directory.Exists || directory.LinkTarget is not null)
        {
            return new ArtifactListing(files, directory.Exists ? [$"{workflow}: the artifacts directory is a symbolic link; nothing collected"] : []);
        }

        var boundary = Path.GetFullPath(Path.Combine(nfsRoot, workflow)) + Path.DirectorySeparatorChar;
        var total = 0L;
        foreach (var (entry, relative) in Walk(directory, "", 0, limits, leftOut))
        {
            var file = Target(entry, boundary, relative, leftOut);
            if (file is null)
            {
                continue;
            }

            if (files.Count >= limits.MaxFiles)
            {
                leftOut.Add($"{relative}: more than {limits.MaxFiles} files; the rest are left out");
                break;
            }

            if (file.Length > limits.MaxFileBytes)
            {
                leftOut.Add($"{relative}: {file.Length} bytes, more than the {limits.MaxFileBytes} allowed per file");
                continue;
            }

            if (total + file.Length > limits.MaxTotalBytes)
            {
                leftOut.Add($"{relative}: the workflow's artifacts would exceed {limits.MaxTotalBytes} bytes");
                continue;
            }

            total += file.Length;
            files.Add(new ArtifactFile(file.FullName, relative, file.Length));
        }

        return new ArtifactListing(files, leftOut);
    }

    /// <summary>
    /// Opens an artifact for streaming (sequential, never loaded whole). An empty one is not opened at all: named pipes,
    /// sockets and devices report size 0, and opening one would block or stream forever.
    /// </summary>
    public static Stream Open(ArtifactFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Size == 0 ? new MemoryStream([], writable: false) : new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
    }

    private static IEnumerable<(FileSystemInfo Entry, string Relative)> Walk(DirectoryInfo directory, string prefix, int depth, ArtifactLimits limits, List<string> leftOut)
    {
        foreach (var entry in directory.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var relative = prefix + entry.Name;
            if (entry is not DirectoryInfo sub)
            {
                yield return (entry, relative);
            }
            else if (sub.LinkTarget is not null)
            {
                leftOut.Add($"{relative}/: a linked directory is not followed");
            }
            else if (depth + 1 >= limits.MaxDepth)
            {
                leftOut.Add($"{relative}/: deeper than {limits.MaxDepth} levels");
            }
            else
            {
                foreach (var nested in Walk(sub, relative + "/", depth + 1, limits, leftOut))
                {
                    yield return nested;
                }
            }
        }
    }

    /// <summary>The regular file an entry is, or names inside the workflow's directory; null (with a reason) otherwise.</summary>
    private static FileInfo? Target(FileSystemInfo entry, string boundary, string relative, List<string> leftOut)
    {
        if (entry.LinkTarget is null)
        {
            return (FileInfo)entry;
        }

        var resolved = entry.ResolveLinkTarget(returnFinalTarget: true);
        if (resolved is FileInfo { Exists: true } target && target.LinkTarget is null
            && Path.GetFullPath(target.FullName).StartsWith(boundary, StringComparison.Ordinal) && NoLinkedAncestor(target.Directory, boundary))
        {
            return target;
        }

        leftOut.Add($"{relative}: a symbolic link to something other than a file in the workflow's directory is not followed");
        return null;
    }

    // A target path inside the boundary may still pass through a linked directory pointing elsewhere.
    private static bool NoLinkedAncestor(DirectoryInfo? directory, string boundary)
    {
        for (var d = directory; d is not null && (d.FullName + Path.DirectorySeparatorChar).StartsWith(boundary, StringComparison.Ordinal); d = d.Parent)
        {
            if (d.LinkTarget is not null)
            {
                return false;
            }
        }

        return true;
    }
}
