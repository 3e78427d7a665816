using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Churn.Reliability.Tests.Security;

/// <summary>No secret is committed: every file git tracks is scanned for private keys, cloud and service tokens and assigned passwords.</summary>
public sealed partial class RepositorySecretsTests
{
    /// <summary>Credentials of throwaway test servers, reviewed one by one: the file and the value the scan may find there.</summary>
    private static readonly HashSet<(string File, string Value)> Reviewed =
    [
        ("tests/Churn.Browser.Tests/DashboardFixture.cs", "correct-horse-battery"),
    ];

    [Fact]
    public void NoCommittedFileHoldsAPrivateKeyATokenOrAPassword()
    {
        var root = RepositoryRoot.Require();
        var files = Git(root, "ls-files", "-z").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var findings = new List<string>();
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            if (name is ".env" || name.EndsWith(".pfx", StringComparison.Ordinal) || name.EndsWith(".p12", StringComparison.Ordinal) || name.StartsWith("id_rsa", StringComparison.Ordinal))
            {
                findings.Add($"{file}: a file of secrets");
                continue;
            }
            var path = Path.Combine(root, file);
            if (!File.Exists(path) || new FileInfo(path).Length > 2_000_000)
            {
                continue;
            }
            var lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                foreach (var pattern in Patterns())
                {
                    var match = pattern.Match(line);
                    // Values that say they are examples or test fixtures are not secrets.
                    if (match.Success && !Placeholder().IsMatch(match.Value) && !Reviewed.Any(r => r.File == file && match.Value.Contains(r.Value, StringComparison.Ordinal)))
                    {
                        findings.Add($"{file}:{lineNumber}: {match.Value[..Math.Min(match.Value.Length, 60)]}");
                    }
                }
            }
        }
        Assert.True(files.Length > 50, $"git listed only {files.Length} files");
        Assert.True(findings.Count == 0, string.Join("\n", findings));
    }

    private static IEnumerable<Regex> Patterns() =>
    [
        PrivateKey(), AwsKey(), GitHubToken(), SlackToken(), ChurnKey(), AssignedSecret(),
    ];

    [GeneratedRegex("-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")]
    private static partial Regex PrivateKey();

    [GeneratedRegex("\\b(AKIA|ASIA)[0-9A-Z]{16}\\b")]
    private static partial Regex AwsKey();

    [GeneratedRegex("\\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,})\\b")]
    private static partial Regex GitHubToken();

    [GeneratedRegex("\\bxox[baprs]-[A-Za-z0-9-]{10,}")]
    private static partial Regex SlackToken();

    /// <summary>The server's own keys: "churn_" and 43 base64url characters.</summary>
    [GeneratedRegex("\\bchurn_[A-Za-z0-9_-]{43}\\b")]
    private static partial Regex ChurnKey();

    [GeneratedRegex("(?i)(password|passwd|secret|api_?key|token)[\"']?\\s*[:=]\\s*[\"'][^\"'\\s]{8,}[\"']")]
    private static partial Regex AssignedSecret();

    [GeneratedRegex("(?i)(test|example|change-?me|fixture|placeholder|dummy|\\{|\\$)")]
    private static partial Regex Placeholder();

    private static string Git(string root, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var git = Process.Start(start)!;
        var text = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.Equal(0, git.ExitCode);
        return text;
    }
}
