using Churn.Server.Dashboard;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Churn.Server.Tests.Dashboard;

public sealed class SignInThrottleTests
{
    private readonly HandClock clock = new();

    private SignInThrottle Throttle(int perUser = 5, int perAddress = 20) => new(
        Options.Create(new DashboardOptions { FailuresPerUser = perUser, FailuresPerAddress = perAddress, Lockout = TimeSpan.FromMinutes(15) }),
        clock,
        NullLogger<SignInThrottle>.Instance);

    [Fact]
    public void TheFifthFailureLocksTheUserNameForTheLockoutAndItEndsByItself()
    {
        var throttle = Throttle();
        for (var i = 0; i < 4; i++)
        {
            Assert.Null(throttle.Failed("lee", "10.0.0.1"));
        }
        Assert.Equal(TimeSpan.FromMinutes(15), throttle.Failed("lee", "10.0.0.1"));
        // Any spelling of the name and any address: the name itself is locked.
        Assert.NotNull(throttle.LockedFor("LEE", "10.0.0.2"));
        Assert.Null(throttle.LockedFor("ana", "10.0.0.2"));
        clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        Assert.Null(throttle.LockedFor("lee", "10.0.0.1"));
    }

    [Fact]
    public void FailuresOlderThanTheLockoutAreForgottenAndASuccessForgetsTheNamesFailures()
    {
        var throttle = Throttle();
        for (var i = 0; i < 4; i++)
        {
            throttle.Failed("lee", "10.0.0.1");
        }
        clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Null(throttle.Failed("lee", "10.0.0.1"));
        for (var i = 0; i < 3; i++)
        {
            throttle.Failed("lee", "10.0.0.1");
        }
        throttle.Succeeded("lee");
        Assert.Null(throttle.Failed("lee", "10.0.0.1"));
        Assert.Empty(throttle.Locks());
    }

    [Fact]
    public void ManyNamesFromOneAddressLockTheAddressUntilLifted()
    {
        var throttle = Throttle(perAddress: 3);
        Assert.Null(throttle.Failed("a", "10.0.0.9"));
        Assert.Null(throttle.Failed("b", "10.0.0.9"));
        Assert.NotNull(throttle.Failed("c", "10.0.0.9"));
        Assert.NotNull(throttle.LockedFor("someone-else", "10.0.0.9"));
        Assert.Null(throttle.LockedFor("someone-else", "10.0.0.10"));
        var lockout = Assert.Single(throttle.Locks());
        Assert.Equal((SignInThrottle.AddressKind, "10.0.0.9"), (lockout.Kind, lockout.Key));
        Assert.True(throttle.Lift(SignInThrottle.AddressKind, "10.0.0.9"));
        Assert.Null(throttle.LockedFor("someone-else", "10.0.0.9"));
        Assert.False(throttle.Lift(SignInThrottle.AddressKind, "10.0.0.9"));
    }

    private sealed class HandClock : TimeProvider
    {
        private DateTimeOffset now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
