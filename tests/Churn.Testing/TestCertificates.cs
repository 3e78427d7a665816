using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Churn.Testing;

/// <summary>Certificates made as an operator would make one for <c>Churn:KeyRingCertificate</c>.</summary>
public static class TestCertificates
{
    /// <summary>A self-signed RSA 2048 certificate with its private key, in a new PFX file under <see cref="Scratch.Root"/> protected by <paramref name="password"/>.</summary>
    public static async Task<string> CreatePfxAsync(string password)
    {
        var path = Scratch.NewFilePath(".pfx");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=churn-key-ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }
}
