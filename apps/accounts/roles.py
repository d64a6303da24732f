"""The three product roles of SPEC §1 and the permissions each group holds.

The data migration that creates the groups reads ``GROUP_PERMISSIONS``; code
never asks for a group by name, it asks for a permission (see ``permissions``).
"""

MARKETING = "marketing"
SALES = "sales"
SALES_MANAGER = "sales_manager"
ROLE_GROUPS = (MARKETING, SALES, SALES_MANAGER)

GROUP_PERMISSIONS = {
    MARKETING: [
        "leads.add_lead",
        "leads.change_lead",
        "leads.add_engagement",
        "leads.view_all_leads",
        "leads.promote_lead",
        "leads.review_rejected_lead",
        "leads.view_reports",
    ],
    SALES: [
        "leads.view_mql_pool",
        "leads.work_own_leads",
    ],
    SALES_MANAGER: [
        "leads.view_all_leads",
        "leads.view_mql_pool",
        "leads.work_own_leads",
        "leads.work_all_leads",
        "leads.reassign_lead",
        "leads.view_reports",
    ],
}
