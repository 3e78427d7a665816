using Churn.Data.Store;
using Churn.Server.Dashboard;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Churn.Server.Tests.Dashboard;

/// <summary>The lockout rule over the store's counts (a real SQLite store, as a single node without Redis keeps them).</summary>
public sealed class SignInThrottleTests
{
    private readonly HandClock clock = new();
    private readonly string dir = Scratch.NewDirectory("signin");

    private async Task<SignInThrottle> ThrottleAsync(int perUser = 5, int perAddress = 20)
    {
        var store = new StoreFactory(new StoreOptions(), dir);
        await store.MigrateAsync();
        var counts = new StoreSignInCounts(store);
        return new SignInThrottle(
            Options.Create(new DashboardOptions { FailuresPerUser = perUser, FailuresPerAddress = perAddress, Lockout = TimeSpan.FromMinutes(15) }),
            counts,
            counts,
            clock,
            NullLogger<SignInThrottle>.Instance);
    }

    [Fact]
    public async Task TheFifthFailureLocksTheUserNameForTheLockoutAndItEndsByItself()
    {
        var throttle = await ThrottleAsync();
        for (var i = 0; i < 4; i++)
        {
            Assert.Null(await throttle.FailedAsync("lee", "10.0.0.1"));
        }
        Assert.Equal(TimeSpan.FromMinutes(15), await throttle.FailedAsync("lee", "10.0.0.1"));
        // Any spelling of the name and any address: the name itself is locked.
        Assert.NotNull(await throttle.LockedForAsync("LEE", "10.0.0.2"));
        Assert.Null(await throttle.LockedForAsync("ana", "10.0.0.2"));
        clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));
        Assert.Null(await throttle.LockedForAsync("lee", "10.0.0.1"));
    }

    [Fact]
    public async Task FailuresOlderThanTheLockoutAreForgottenAndASuccessForgetsTheNamesFailures()
    {
        var throttle = await ThrottleAsync();
        for (var i = 0; i < 4; i++)
        {
            await throttle.FailedAsync("lee", "10.0.0.1");
        }
        clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Null(await throttle.FailedAsync("lee", "10.0.0.1"));
        for (var i = 0; i < 3; i++)
        {
            await throttle.FailedAsync("lee", "10.0.0.1");
        }
        await throttle.SucceededAsync("lee");
        Assert.Null(await throttle.FailedAsync("lee", "10.0.0.1"));
        Assert.Empty(await throttle.LocksAsync());
    }

    [Fact]
    public async Task ManyNamesFromOneAddressLockTheAddressUntilLifted()
    {
        var throttle = await ThrottleAsync(perAddress: 3);
        Assert.Null(await throttle.FailedAsync("a", "10.0.0.9"));
        Assert.Null(await throttle.FailedAsync("b", "10.0.0.9"));
        Assert.NotNull(await throttle.FailedAsync("c", "10.0.0.9"));
        Assert.NotNull(await throttle.LockedForAsync("someone-else", "10.0.0.9"));
        Assert.Null(await throttle.LockedForAsync("someone-else", "10.0.0.10"));
        var lockout = Assert.Single(await throttle.LocksAsync());
        Assert.Equal((SignInThrottle.AddressKind, "10.0.0.9"), (lockout.Kind, lockout.Key));
        Assert.True(await throttle.LiftAsync(SignInThrottle.AddressKind, "10.0.0.9"));
        Assert.Null(await throttle.LockedForAsync("someone-else", "10.0.0.9"));
        Assert.False(await throttle.LiftAsync(SignInThrottle.AddressKind, "10.0.0.9"));
    }

    private sealed class HandClock : TimeProvider
    {
        private DateTimeOffset now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
