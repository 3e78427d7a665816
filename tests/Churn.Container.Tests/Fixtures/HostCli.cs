namespace Churn.Container.Tests.Fixtures;

/// <summary>The <c>churn</c> command built for the host (<c>dotnet churn.dll</c> beside the tests), as an operator runs it outside the container.</summary>
internal static class HostCli
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) =>
        await ChurnCommand.RunAsync(args, TimeSpan.FromMinutes(2));
}
