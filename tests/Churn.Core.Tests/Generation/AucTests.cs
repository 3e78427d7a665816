namespace Churn.Core.Tests.Generation;

public class AucTests
{
    [Fact]
    public void PerfectRankingScoresOneAndReversedRankingScoresZero()
    {
        bool[] labels = [false, false, true, true];

        Assert.Equal(1.0, Auc.Of([0.1, 0.2, 0.8, 0.9], labels));
        Assert.Equal(0.0, Auc.Of([0.9, 0.8, 0.2, 0.1], labels));
    }

    [Fact]
    public void TiedScoresCountAsHalfCorrect()
    {
        Assert.Equal(0.5, Auc.Of([0.5, 0.5], [false, true]));
    }
}
