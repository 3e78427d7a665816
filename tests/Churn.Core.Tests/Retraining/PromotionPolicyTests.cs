using Churn.Core.Retraining;

namespace Churn.Core.Tests.Retraining;

public class PromotionPolicyTests
{
    [Fact]
    public void AChallengerAheadByTheMarginIsPromotedWithBothFiguresInTheReason()
    {
        var decision = new PromotionPolicy(0.01).Decide(championAuc: 0.80, challengerAuc: 0.81, heldOutRows: 400, championVersion: 3, challengerVersion: 4);

        Assert.True(decision.Promote);
        Assert.Equal("AUC", decision.Metric);
        Assert.Equal(0.01, decision.Margin);
        Assert.Equal(400, decision.HeldOutRows);
        Assert.Equal("challenger v4 AUC 0.8100 beats champion v3 AUC 0.8000 by at least 0.0100 on 400 held-out rows", decision.Reason);
    }

    [Fact]
    public void AChallengerBetterOnlyByLessThanTheMarginIsRefusedAndTheReasonSaysWhy()
    {
        var decision = new PromotionPolicy(0.01).Decide(0.80, 0.8099, 250, 3, 4);

        Assert.False(decision.Promote);
        Assert.Equal("challenger v4 AUC 0.8099 does not beat champion v3 AUC 0.8000 by the margin 0.0100 on 250 held-out rows", decision.Reason);
    }

    [Fact]
    public void AZeroMarginPromotesATieButNotAWorseChallenger()
    {
        var policy = new PromotionPolicy(0);

        Assert.True(policy.Decide(0.75, 0.75, 100, 1, 2).Promote);
        Assert.False(policy.Decide(0.75, 0.7499, 100, 1, 2).Promote);
    }

    [Fact]
    public void ScoresAreComparedByAucOnTheSameRows()
    {
        bool[] labels = [true, true, false, false];
        double[] champion = [0.6, 0.4, 0.5, 0.3];   // one of four pairs out of order: AUC 0.75
        double[] challenger = [0.9, 0.8, 0.2, 0.1]; // all in order: AUC 1

        var decision = new PromotionPolicy().Decide(champion, challenger, labels, 1, 2);

        Assert.True(decision.Promote);
        Assert.Equal(0.75, decision.Champion, 1e-12);
        Assert.Equal(1.0, decision.Challenger, 1e-12);
        Assert.Equal(4, decision.HeldOutRows);
        Assert.Equal(PromotionPolicy.DefaultMargin, decision.Margin);
    }

    [Fact]
    public void HeldOutRowsOfOneClassCannotDecide()
    {
        var error = Assert.Throws<ArgumentException>(() => new PromotionPolicy().Decide([0.1, 0.2], [0.3, 0.4], [true, true], 1, 2));

        Assert.Contains("only one class", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScoresMissingForSomeRowsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new PromotionPolicy().Decide([0.1, 0.2], [0.3], [true, false], 1, 2));
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void AMarginOutsideZeroToOneIsRefused(double margin)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromotionPolicy(margin));
    }
}
