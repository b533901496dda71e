using System.Text.Json.Nodes;
using Kfci.Http;

namespace Kfci.Janitor.Gcp;

/// <summary>
/// Deployment Manager v2: deployments (with whether their last operation failed), deleted with
/// <c>deletePolicy=DELETE</c> so the resources they created go too, and waited on.
/// </summary>
public sealed class DeploymentManagerApi(RestClient rest, OperationPolling? polling = null, TimeProvider? clock = null) : IResourceApi
{
    private readonly OperationPolling _polling = polling ?? OperationPolling.Default;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Api => "deploymentmanager";

    public IReadOnlyCollection<ResourceType> Types { get; } = [ResourceType.DmDeployment];

    public async Task<IReadOnlyList<CloudResource>> ListAsync(ResourceType type, JanitorConfig config, CancellationToken cancellationToken)
    {
        try
        {
            return await ListDeploymentsAsync(config, cancellationToken);
        }
        catch (ApiException e) when (IsUnavailable(e))
        {
            // Deployment Manager reached end of support (2026-03-31): where it no longer answers there is nothing to sweep.
            throw new ApiUnavailableException(Api, e.Message, e);
        }
    }

    private async Task<IReadOnlyList<CloudResource>> ListDeploymentsAsync(JanitorConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var deployments = new List<CloudResource>();
        foreach (var project in config.Projects)
        {
            await foreach (var page in GcpRest.PagesAsync(rest, $"{Global(project)}/deployments?maxResults=500", cancellationToken))
            {
                foreach (var item in page["deployments"] as JsonArray ?? [])
                {
                    if (item is JsonObject json && GcpRest.Str(json, "name") is { Length: > 0 } name)
                    {
                        deployments.Add(new CloudResource(ResourceType.DmDeployment, name)
                        {
                            Project = project,
                            Location = "global",
                            Created = GcpRest.Time(json, "insertTime"),
                            Labels = Labels(json["labels"]),
                            Status = GcpRest.Str(json["operation"] as JsonObject, "status"),
                            Error = json["operation"] is JsonObject operation && GcpRest.ErrorList(operation) is not null,
                        });
                    }
                }
            }
        }

        return deployments;
    }

    public async Task<bool> DeleteAsync(CloudResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var global = Global(resource.Project ?? "");
        if (await GcpRest.DeleteAsync(rest, $"{global}/deployments/{GcpRest.Escape(resource.Name)}?deletePolicy=DELETE", cancellationToken) is not { } operation)
        {
            return false;
        }

        await GcpRest.WaitAsync(
            rest, operation, name => $"{global}/operations/{GcpRest.Escape(name)}", GcpRest.ErrorList,
            $"delete dm-deployment {resource.Name}", _polling, _clock, cancellationToken);
        return true;
    }

    /// <summary>403 SERVICE_DISABLED / accessNotConfigured ("API has not been used … or it is disabled"), or 404 for the API itself.</summary>
    private static bool IsUnavailable(ApiException e) =>
        e.IsNotFound
        || (e.Status == System.Net.HttpStatusCode.Forbidden
            && (e.Reason is "SERVICE_DISABLED" or "accessNotConfigured"
                || e.Message.Contains("has not been used", StringComparison.Ordinal)
                || e.Message.Contains("is disabled", StringComparison.Ordinal)
                || e.Message.Contains("not enabled", StringComparison.Ordinal)));

    private static string Global(string project) => $"deploymentmanager/v2/projects/{GcpRest.Escape(project)}/global";

    // Deployment Manager labels are a list of {key, value} entries, not a map.
    private static Dictionary<string, string> Labels(JsonNode? labels) =>
        (labels as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(entry => GcpRest.Str(entry, "key") is not null)
            .GroupBy(entry => GcpRest.Str(entry, "key")!, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => GcpRest.Str(group.Last(), "value") ?? "", StringComparer.Ordinal);
}
