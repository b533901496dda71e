using System.Text;

namespace Kfci.Storage;

/// <summary>
/// The object names kfci accepts, checked identically by every <see cref="IResultsStore"/> so that a
/// name that works on the local directory also works on GCS and the other way round.
/// </summary>
public static class ObjectPaths
{
    /// <summary>GCS's limit on the UTF-8 length of an object name.</summary>
    public const int MaxNameBytes = 1024;

    public const string DefaultContentType = "application/octet-stream";

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="path"/> is a valid object name.</summary>
    public static void Validate(string path, string? paramName = "path")
    {
        ArgumentNullException.ThrowIfNull(path, paramName);
        if (path.Length == 0)
        {
            throw new ArgumentException("An object path must not be empty.", paramName);
        }

        CheckCommon(path, paramName);
        if (path.EndsWith('/'))
        {
            throw new ArgumentException($"Object path '{path}' must not end with '/': objects are files, not folders.", paramName);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="prefix"/> is empty or the start of a valid object name.</summary>
    public static void ValidatePrefix(string prefix, string? paramName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        if (prefix.Length > 0)
        {
            CheckCommon(prefix, paramName);
        }
    }

    private static void CheckCommon(string path, string? paramName)
    {
        if (path.StartsWith('/'))
        {
            throw new ArgumentException($"Object path '{path}' must be relative to the bucket (no leading '/').", paramName);
        }

        if (Encoding.UTF8.GetByteCount(path) > MaxNameBytes)
        {
            throw new ArgumentException($"Object path '{path[..40]}...' is longer than {MaxNameBytes} UTF-8 bytes.", paramName);
        }

        foreach (var c in path)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"Object path '{path}' contains a control character (U+{(int)c:X4}).", paramName);
            }
        }

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            // A trailing empty segment is a prefix ending in '/', which is fine for prefixes; Validate rejects it for names.
            var last = i == segments.Length - 1;
            if ((segments[i].Length == 0 && !last) || segments[i] is "." or "..")
            {
                throw new ArgumentException($"Object path '{path}' has an empty, '.' or '..' segment.", paramName);
            }
        }
    }
}
