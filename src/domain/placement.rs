//! Where a node-level fault's pod runs: on the one node its target pods share.

/// Where a node-level fault pod runs, and on which target pods (the operator picks them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodePlan {
    pub node: String,
    pub pods: Vec<String>,
}

/// The node shared by `targets` (pod name, node name), with the pods in name order; or why
/// there is none. A pod not yet scheduled cannot be shaped, and one fault pod acts on one node.
pub fn one_node(targets: &[(String, String)]) -> Result<NodePlan, String> {
    let scheduled: Vec<&(String, String)> = targets
        .iter()
        .filter(|(_, node)| !node.is_empty())
        .collect();
    if scheduled.is_empty() {
        return Err(if targets.is_empty() {
            "no target pod matched".into()
        } else {
            "no target pod is scheduled on a node yet".into()
        });
    }
    let mut nodes: Vec<&str> = scheduled.iter().map(|(_, node)| node.as_str()).collect();
    nodes.sort();
    nodes.dedup();
    if let [node] = nodes.as_slice() {
        let mut pods: Vec<String> = scheduled.iter().map(|(pod, _)| pod.clone()).collect();
        pods.sort();
        return Ok(NodePlan {
            node: (*node).to_string(),
            pods,
        });
    }
    Err(format!(
        "the selected target pods run on {} nodes ({}): a node-level fault acts on the pods of one node; narrow target (mode: one, target.nodeSelector) or add one fault per node",
        nodes.len(),
        nodes.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pod: &str, node: &str) -> (String, String) {
        (pod.into(), node.into())
    }

    #[test]
    fn pods_on_one_node_share_its_fault_pod() {
        let plan = one_node(&[t("web-b", "n1"), t("web-a", "n1")]).unwrap();
        assert_eq!(plan.node, "n1");
        assert_eq!(plan.pods, vec!["web-a", "web-b"]);
    }

    #[test]
    fn unscheduled_pods_are_left_out_and_none_at_all_is_refused() {
        let plan = one_node(&[t("web-a", "n1"), t("web-b", "")]).unwrap();
        assert_eq!(plan.pods, vec!["web-a"]);
        assert!(
            one_node(&[t("web-b", "")])
                .unwrap_err()
                .contains("scheduled")
        );
        assert!(one_node(&[]).unwrap_err().contains("no target"));
    }

    #[test]
    fn pods_on_several_nodes_are_refused_naming_the_nodes() {
        let why = one_node(&[t("a", "n2"), t("b", "n1")]).unwrap_err();
        assert!(why.contains("2 nodes (n1, n2)"), "{why}");
    }
}
