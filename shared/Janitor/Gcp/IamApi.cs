using System.Text.Json.Nodes;
using Kfci.Http;

namespace Kfci.Janitor.Gcp;

/// <summary>
/// IAM v1 service accounts. Accounts carry no creation time (their age comes from first sighting), and deleting one
/// deletes its keys, so keys are not listed separately.
/// </summary>
public sealed class IamApi(RestClient rest) : IResourceApi
{
    public string Api => "iam";

    public IReadOnlyCollection<ResourceType> Types { get; } = [ResourceType.ServiceAccount];

    public async Task<IReadOnlyList<CloudResource>> ListAsync(ResourceType type, JanitorConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var accounts = new List<CloudResource>();
        foreach (var project in config.Projects)
        {
            await foreach (var page in GcpRest.PagesAsync(rest, $"v1/projects/{GcpRest.Escape(project)}/serviceAccounts?pageSize=100", cancellationToken))
            {
                foreach (var item in page["accounts"] as JsonArray ?? [])
                {
                    if (item is JsonObject json && GcpRest.Str(json, "email") is { Length: > 0 } email)
                    {
                        accounts.Add(new CloudResource(ResourceType.ServiceAccount, email)
                        {
                            Project = project,
                            Location = "global",
                            Status = json["disabled"] is JsonValue disabled && disabled.TryGetValue<bool>(out var off) && off ? "DISABLED" : null,
                        });
                    }
                }
            }
        }

        return accounts;
    }

    public async Task<bool> DeleteAsync(CloudResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var uri = $"v1/projects/{GcpRest.Escape(resource.Project ?? "")}/serviceAccounts/{GcpRest.Escape(resource.Name)}";
        return await GcpRest.DeleteAsync(rest, uri, cancellationToken) is not null;
    }
}
