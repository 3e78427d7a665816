namespace Churn.Testing;

/// <summary>
/// The secrets every suite starts the product with, in process, as a child process or in a container, as an operator
/// hands them over: the bootstrap admin key (<c>CHURN_ADMIN_KEY</c> or <c>Churn:AdminKey</c>), the dashboard admin's
/// password (<c>CHURN_ADMIN_PASSWORD</c>) and the password of a generated key-ring certificate. They are made up for the
/// tests and open nothing anywhere else; their words mark them as test values for the repository's secret scan.
/// </summary>
public static class TestSecrets
{
    /// <summary>The bootstrap admin key: <c>churn_</c> and more characters than the server asks of a key.</summary>
    public const string AdminKey = "churn_test-admin-key-0123456789abcdefghijklmnopqrstuvwxyz";

    /// <summary>The dashboard admin's password, long enough for the server's password rule.</summary>
    public const string DashboardPassword = "test-only-dashboard-password-0123";

    /// <summary>The password of a certificate made by <see cref="TestCertificates.CreatePfxAsync"/> for the key ring.</summary>
    public const string KeyRingPassword = "test-only-key-ring-password-0123";
}
