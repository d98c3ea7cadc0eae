using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IoMT.Deployment.Testing;

/// <summary>A self-signed certificate for 127.0.0.1 and localhost, written as PEM files for node servers.</summary>
public sealed class SelfSignedCertificate : IDisposable
{
    private SelfSignedCertificate(string directory, string certPath, string keyPath, X509Certificate2 certificate)
    {
        Directory = directory;
        CertPath = certPath;
        KeyPath = keyPath;
        Certificate = certificate;
    }

    /// <summary>The folder holding the PEM files; deleted on dispose.</summary>
    public string Directory { get; }

    /// <summary>The certificate PEM file.</summary>
    public string CertPath { get; }

    /// <summary>The private key PEM file.</summary>
    public string KeyPath { get; }

    /// <summary>The certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Creates a certificate valid for a day, in a new temporary folder.</summary>
    public static SelfSignedCertificate Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "iomt-cert-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(dir, "cert.pem");
        var keyPath = Path.Combine(dir, "key.pem");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return new SelfSignedCertificate(dir, certPath, keyPath, cert);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Certificate.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
