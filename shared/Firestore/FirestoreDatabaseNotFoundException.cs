using Kfci.Configuration;
using Kfci.Http;

namespace Kfci.Firestore;

/// <summary>
/// The Firestore database itself does not exist: a configuration error (wrong <c>KFCI_PROJECT</c> or
/// <c>KFCI_FIRESTORE_DATABASE</c>, or a database never created), not an absent document. Firestore answers both with
/// 404 <c>NOT_FOUND</c>; only the message tells them apart, so every 404 is classified here before anyone reads it as
/// "absent" (see <see cref="IsMissingDatabase"/>). Deliberately not an <see cref="ApiException"/>: no caller's
/// not-found or transient handling may swallow it; the function host answers 500 and logs it as an error.
/// </summary>
public sealed class FirestoreDatabaseNotFoundException : InvalidOperationException
{
    public FirestoreDatabaseNotFoundException()
        : base("the Firestore database does not exist")
    {
    }

    public FirestoreDatabaseNotFoundException(string message)
        : base(message)
    {
    }

    public FirestoreDatabaseNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static FirestoreDatabaseNotFoundException For(string databaseName, ApiException cause) => new(
        $"Firestore database {databaseName} does not exist: check {KfciEnvironment.Project} and {KfciEnvironment.FirestoreDatabase} "
        + $"(or create the database, infra/terraform/firestore.tf). The service said: {cause.Message}",
        cause);

    /// <summary>
    /// Whether a 404 is about the database rather than a document. The service says "The database (default) does not
    /// exist for project p …" for a missing database, and "The project p does not exist or it does not contain an active
    /// Cloud Datastore or Cloud Firestore database" for a project without one; a missing document is "Document "…" not
    /// found" (the emulator: "Document (…) not found") or "No document to update: …" ("no entity to update" there).
    /// </summary>
    internal static bool IsMissingDatabase(ApiException e) =>
        e.IsNotFound
        && (e.Message.Contains("does not exist for project", StringComparison.OrdinalIgnoreCase)
            || e.Message.Contains("does not contain an active Cloud Datastore or Cloud Firestore database", StringComparison.OrdinalIgnoreCase));
}
