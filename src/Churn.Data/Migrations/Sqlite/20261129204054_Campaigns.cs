using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Churn.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Campaigns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "campaigns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Offer = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    CostPerContact = table.Column<double>(type: "REAL", nullable: false),
                    RetainedValue = table.Column<double>(type: "REAL", nullable: false),
                    Eligibility = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ProbabilityFloor = table.Column<double>(type: "REAL", nullable: true),
                    TopN = table.Column<int>(type: "INTEGER", nullable: true),
                    EligibleIds = table.Column<string>(type: "TEXT", nullable: true),
                    HoldoutShare = table.Column<double>(type: "REAL", nullable: false),
                    OutcomeWindowDays = table.Column<int>(type: "INTEGER", nullable: false),
                    StartsAt = table.Column<long>(type: "INTEGER", nullable: false),
                    EndsAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Seed = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_campaigns", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "campaign_assignments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CampaignId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CustomerId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Arm = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ChurnProbability = table.Column<double>(type: "REAL", nullable: false),
                    Uplift = table.Column<double>(type: "REAL", nullable: true),
                    Segment = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    AssignedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    AssignedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_campaign_assignments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_campaign_assignments_campaigns_CampaignId",
                        column: x => x.CampaignId,
                        principalTable: "campaigns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "campaign_contacts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CampaignId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CustomerId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Rank = table.Column<int>(type: "INTEGER", nullable: false),
                    ExpectedProfit = table.Column<double>(type: "REAL", nullable: false),
                    ContactedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ContactedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_campaign_contacts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_campaign_contacts_campaigns_CampaignId",
                        column: x => x.CampaignId,
                        principalTable: "campaigns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_campaign_assignments_CampaignId_CustomerId",
                table: "campaign_assignments",
                columns: new[] { "CampaignId", "CustomerId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_campaign_contacts_CampaignId_CustomerId",
                table: "campaign_contacts",
                columns: new[] { "CampaignId", "CustomerId" });

            migrationBuilder.CreateIndex(
                name: "IX_campaigns_CreatedAt",
                table: "campaigns",
                column: "CreatedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "campaign_assignments");

            migrationBuilder.DropTable(
                name: "campaign_contacts");

            migrationBuilder.DropTable(
                name: "campaigns");
        }
    }
}
