namespace Churn.Server.Security;

/// <summary>
/// What each role may do, as authorization policies set once per endpoint group. Admin may do everything;
/// analysts predict and read; services predict and send feedback; viewers only read.
/// </summary>
public static class Policies
{
    public const string Predict = "predict";
    public const string Feedback = "feedback";
    public const string Read = "read";
    public const string Admin = "admin";

    /// <summary>Acknowledging alerts: the people who watch monitoring (analysts) and admins.</summary>
    public const string Acknowledge = "acknowledge";

    /// <summary>Creating retention campaigns and assigning customers to their arms: analysts and admins.</summary>
    public const string Campaigns = "campaigns";

    /// <summary>Any valid key: used for job status, which whoever started the job must be able to poll.</summary>
    public const string AnyKey = "any-key";
}
