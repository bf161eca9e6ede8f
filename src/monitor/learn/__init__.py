"""Learning from the analysts: training a theme's model on their labels (`train`), which items are worth their
judgement and which words a theme lacks (`teach`), and how well the themes agree with their labels (`quality`)."""
