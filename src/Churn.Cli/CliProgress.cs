using Churn.Core.Training;

namespace Churn.Cli;

/// <summary>A progress bar for long work on a terminal; silent for --json and when output is redirected.</summary>
internal static class CliProgress
{
    public static void Run(bool show, string title, Action<Action<TrainingProgress>> work)
    {
        if (!show || Console.IsErrorRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            work(_ => { });
            return;
        }
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: 1.0);
                work(p =>
                {
                    task.Value = Math.Clamp(p.Fraction, 0, 1);
                    task.Description = Markup.Escape($"{title}: {p.Stage}");
                });
                task.Value = 1;
            });
    }
}
