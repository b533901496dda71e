using System.Net;
using Google;
using Kfci.Http;

namespace Kfci.Storage;

/// <summary>
/// The results bucket does not exist (or this identity cannot see it): a deployment's configuration error, not an
/// absent object. GCS answers 404 for both; this is the one that must stop the caller instead of reading as "none".
/// </summary>
public sealed class ResultsBucketNotFoundException(string bucket, string message, Exception? inner = null)
    : InvalidOperationException(message, inner)
{
    public string Bucket { get; } = bucket;
}

/// <summary>The storage client's errors in kfci's terms.</summary>
internal static class GcsErrors
{
    // GCS's message for a missing bucket on every object call (reason notFound, like a missing object's "No such object").
    private const string NoSuchBucket = "bucket does not exist";

    /// <summary>
    /// A <see cref="GoogleApiException"/> as an <see cref="ApiException"/> with the service's reason, or as
    /// <see cref="ResultsBucketNotFoundException"/> when the bucket is missing; any other exception unchanged.
    /// </summary>
    public static Exception Translate(string bucket, string path, Exception error)
    {
        if (error is not GoogleApiException api)
        {
            return error;
        }

        var message = api.Error?.Message ?? api.Message;
        if (api.HttpStatusCode == HttpStatusCode.NotFound && IsMissingBucket(api))
        {
            return new ResultsBucketNotFoundException(
                bucket,
                $"The results bucket gs://{bucket} does not exist ({message}): create it, or set KFCI_RESULTS_BUCKET to the bucket Terraform created.",
                api);
        }

        var reason = api.Error?.Errors?.FirstOrDefault()?.Reason;
        return new ApiException(api.HttpStatusCode, reason, $"gs://{bucket}/{path}: {(int)api.HttpStatusCode} {reason}: {message}");
    }

    private static bool IsMissingBucket(GoogleApiException api) =>
        (api.Error?.Message?.Contains(NoSuchBucket, StringComparison.OrdinalIgnoreCase) ?? false)
        || (api.Error?.Errors?.Any(e => e.Message?.Contains(NoSuchBucket, StringComparison.OrdinalIgnoreCase) ?? false) ?? false);
}
